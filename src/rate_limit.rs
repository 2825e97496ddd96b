//! Rate-limit headers (`X-Ratelimit-*`), parsed from every response.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// A snapshot of the `X-Ratelimit-*` headers of one response.
///
/// Twelve Labs v1.2 counts requests per endpoint family in a 24-hour window. The latest snapshot
/// the client saw is available from [`Client::rate_limit`](crate::Client::rate_limit), and every
/// rate-limit error carries the one of its response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-Ratelimit-Limit`: requests allowed in the window.
    pub limit: Option<u64>,
    /// `X-Ratelimit-Remaining`: requests left in the window.
    pub remaining: Option<u64>,
    /// `X-Ratelimit-Used`: requests used in the window.
    pub used: Option<u64>,
    /// `X-Ratelimit-Reset`: when the window resets (sent as UTC epoch seconds; `None` when absent,
    /// not a number, or beyond what the platform's clock can represent).
    pub reset: Option<SystemTime>,
    /// The response's `Date` header: the server's clock when it answered. With it, the time left
    /// until `reset` does not depend on this machine's clock ([`RateLimit::resets_in`]).
    pub date: Option<SystemTime>,
}

impl RateLimit {
    /// Parses the headers; `None` when the response carries none of them. When a header is
    /// repeated, its first value counts.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        // One pass over the headers: cheaper than four hashed lookups, and this runs on every
        // response (see BENCHMARKS.md).
        let (mut limit, mut remaining, mut used, mut reset) = (None, None, None, None);
        let mut date = None;
        for (name, value) in headers {
            let Some(which) = name.as_str().strip_prefix("x-ratelimit-") else {
                if name == reqwest::header::DATE && date.is_none() {
                    date = value
                        .to_str()
                        .ok()
                        .and_then(|v| httpdate::parse_http_date(v).ok());
                }
                continue;
            };
            let slot = match which {
                "limit" => &mut limit,
                "remaining" => &mut remaining,
                "used" => &mut used,
                "reset" => &mut reset,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(
                    value
                        .to_str()
                        .ok()
                        .and_then(|v| v.trim().parse::<u64>().ok()),
                );
            }
        }
        let snapshot = Self {
            limit: limit.flatten(),
            remaining: remaining.flatten(),
            used: used.flatten(),
            // Checked: a reset too far in the future for the platform's clock is no reset.
            reset: reset
                .flatten()
                .and_then(|secs| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))),
            date: None,
        };
        (snapshot != Self::empty()).then_some(Self { date, ..snapshot })
    }

    fn empty() -> Self {
        Self {
            limit: None,
            remaining: None,
            used: None,
            reset: None,
            date: None,
        }
    }

    /// How long until the window resets, measured on the server's clock when the response said
    /// what time it was (`reset − Date`), else on this machine's clock (`reset − now`). `None`
    /// when no reset was sent; zero when it has passed.
    pub fn resets_in(&self, now: SystemTime) -> Option<Duration> {
        let reset = self.reset?;
        let from = self.date.unwrap_or(now);
        Some(reset.duration_since(from).unwrap_or(Duration::ZERO))
    }

    /// Whether few requests are left: at most 10% of the limit, or at most 5 when the limit is
    /// unknown.
    pub fn is_low(&self) -> bool {
        match (self.remaining, self.limit) {
            (Some(remaining), Some(limit)) => remaining.saturating_mul(10) <= limit,
            (Some(remaining), None) => remaining <= 5,
            _ => false,
        }
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
        write!(
            f,
            "limit {}, remaining {}, used {}",
            show(self.limit),
            show(self.remaining),
            show(self.used)
        )?;
        if let Some(reset) = self.reset {
            write!(f, ", resets at {}", HttpDate(reset))?;
        }
        Ok(())
    }
}

/// An HTTP date (`Mon, 10 Jun 2024 00:00:00 GMT`) for any `SystemTime`, without panicking: years
/// past 9999 are written out in full (where `httpdate` panics), a time before 1970 shows as the
/// epoch, one beyond the calendar as epoch seconds.
struct HttpDate(SystemTime);

impl std::fmt::Display for HttpDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self
            .0
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let date = i64::try_from(secs)
            .ok()
            .and_then(|s| chrono::DateTime::<chrono::Utc>::from_timestamp(s, 0));
        match date {
            Some(d) => write!(f, "{}", d.format("%a, %d %b %Y %H:%M:%S GMT")),
            None => write!(f, "epoch second {secs}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn parses_all_four_headers_and_flags_low_remaining() {
        let mut h = HeaderMap::new();
        h.insert("X-Ratelimit-Limit", HeaderValue::from_static("3000"));
        h.insert("X-Ratelimit-Remaining", HeaderValue::from_static("250"));
        h.insert("X-Ratelimit-Used", HeaderValue::from_static("2750"));
        h.insert("X-Ratelimit-Reset", HeaderValue::from_static("1717977600"));
        let r = RateLimit::from_headers(&h).unwrap();
        assert_eq!(r.limit, Some(3000));
        assert_eq!(r.remaining, Some(250));
        assert_eq!(r.used, Some(2750));
        assert_eq!(
            r.reset,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_717_977_600))
        );
        assert!(r.is_low());
        assert_eq!(
            r.to_string(),
            "limit 3000, remaining 250, used 2750, resets at Mon, 10 Jun 2024 00:00:00 GMT"
        );
        h.insert("X-Ratelimit-Remaining", HeaderValue::from_static("301"));
        assert!(!RateLimit::from_headers(&h).unwrap().is_low());
    }

    #[test]
    fn the_reset_is_measured_on_the_servers_clock_when_it_sends_a_date() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1717977600"));
        let far_future = SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        // Without a Date header: against this machine's clock (here: long past the reset).
        let r = RateLimit::from_headers(&h).unwrap();
        assert_eq!(r.resets_in(far_future), Some(Duration::ZERO));
        // With one: an hour before the reset on the server's clock, whatever ours says.
        h.insert(
            "date",
            HeaderValue::from_static("Sun, 09 Jun 2024 23:00:00 GMT"),
        );
        let r = RateLimit::from_headers(&h).unwrap();
        assert_eq!(r.resets_in(far_future), Some(Duration::from_secs(3600)));
        // A Date alone is no rate-limit snapshot.
        let mut only_date = HeaderMap::new();
        only_date.insert(
            "date",
            HeaderValue::from_static("Sun, 09 Jun 2024 23:00:00 GMT"),
        );
        assert_eq!(RateLimit::from_headers(&only_date), None);
    }

    #[test]
    fn absent_or_garbage_headers_give_none() {
        assert_eq!(RateLimit::from_headers(&HeaderMap::new()), None);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", HeaderValue::from_static("lots"));
        assert_eq!(RateLimit::from_headers(&h), None);
    }

    #[test]
    fn first_value_of_a_repeated_header_counts_and_other_names_are_ignored() {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_static("application/json"));
        h.append("x-ratelimit-remaining", HeaderValue::from_static("7"));
        h.append("x-ratelimit-remaining", HeaderValue::from_static("9"));
        h.insert("x-ratelimit-window", HeaderValue::from_static("86400"));
        h.insert("x-ratelimit", HeaderValue::from_static("1"));
        let r = RateLimit::from_headers(&h).unwrap();
        assert_eq!(
            (r.limit, r.remaining, r.used, r.reset),
            (None, Some(7), None, None)
        );
        // A garbage first value is not replaced by a later one.
        let mut h = HeaderMap::new();
        h.append("x-ratelimit-used", HeaderValue::from_static("n/a"));
        h.append("x-ratelimit-used", HeaderValue::from_static("5"));
        assert_eq!(RateLimit::from_headers(&h), None);
    }

    #[test]
    fn absurd_resets_neither_panic_nor_print_wrong_dates() {
        for (value, shown) in [
            ("18446744073709551615", None),
            (
                "253402300800",
                Some("resets at Sat, 01 Jan +10000 00:00:00 GMT"),
            ),
            ("0", Some("resets at Thu, 01 Jan 1970 00:00:00 GMT")),
        ] {
            let mut h = HeaderMap::new();
            h.insert("x-ratelimit-reset", HeaderValue::from_str(value).unwrap());
            h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
            let r = RateLimit::from_headers(&h).unwrap();
            let text = r.to_string();
            match shown {
                Some(s) => assert!(text.contains(s), "{value}: {text}"),
                None => assert!(!text.contains("resets"), "{value}: {text}"),
            }
        }
        // A SystemTime beyond any calendar still prints.
        let far = RateLimit {
            limit: None,
            remaining: None,
            used: None,
            reset: SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(i64::MAX as u64)),
            date: None,
        };
        if far.reset.is_some() {
            assert!(far.to_string().contains("epoch second"), "{far}");
        }
    }
}
