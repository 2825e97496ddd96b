//! The data a fake video is made of, and the deterministic matching over it.
// `Value` indexing on objects built here (see routes.rs).
#![allow(clippy::indexing_slicing)]

use serde_json::{Value, json};

/// A timed piece of a video's content.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// Start, in seconds.
    pub start: f64,
    /// End, in seconds.
    pub end: f64,
    /// What is seen, said, written or shown there.
    pub text: String,
}

impl Segment {
    /// A segment.
    pub fn new(start: f64, end: f64, text: impl Into<String>) -> Self {
        Self {
            start,
            end,
            text: text.into(),
        }
    }
}

/// What the fake "understands" of a video: the text that search, classification and generation
/// match against, per search option.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoData {
    /// What is seen (search option `visual`).
    pub visual: Vec<Segment>,
    /// What is said (`conversation`; also the transcription).
    pub conversation: Vec<Segment>,
    /// Text on screen (`text_in_video`).
    pub text_in_video: Vec<Segment>,
    /// Logos (`logo`).
    pub logo: Vec<Segment>,
    /// Duration in seconds.
    pub duration: f64,
}

impl Default for VideoData {
    /// A trailer-like clip that the Twelve Labs tour's queries find.
    fn default() -> Self {
        Self {
            visual: vec![
                Segment::new(0.0, 12.5, "A woman wearing makeup in front of a mirror"),
                Segment::new(12.5, 30.0, "A guy with a red mask jumps from a building"),
                Segment::new(30.0, 75.0, "Clothes and outfits are thrown on a bed"),
                Segment::new(75.0, 159.0, "Fashion accessories and jewelry on a table"),
            ],
            conversation: vec![
                Segment::new(5.0, 9.0, "Hey, it's the guy with the red mask"),
                Segment::new(40.0, 44.5, "I love this outfit, it is my style"),
            ],
            text_in_video: vec![
                Segment::new(60.0, 63.0, "Libya"),
                Segment::new(150.0, 159.0, "IN THEATERS JULY 26"),
            ],
            logo: vec![
                Segment::new(80.0, 83.0, "Subway"),
                Segment::new(140.0, 142.0, "Marvel Studios"),
            ],
            duration: 159.0,
        }
    }
}

impl VideoData {
    pub(crate) fn segments(&self, option: &str) -> &[Segment] {
        match option {
            "visual" => &self.visual,
            "conversation" => &self.conversation,
            "text_in_video" => &self.text_in_video,
            "logo" => &self.logo,
            _ => &[],
        }
    }
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 3 || w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect()
}

/// A score in 0..=100: the share of the query's words found in `text` (`exact`: the whole phrase).
pub(crate) fn score(query: &str, text: &str, exact: bool) -> f64 {
    let text_l = text.to_lowercase();
    if exact {
        return if text_l.contains(&query.to_lowercase()) {
            100.0
        } else {
            0.0
        };
    }
    let q = words(query);
    if q.is_empty() {
        return 0.0;
    }
    let t = words(text);
    let found = q.iter().filter(|w| t.contains(w)).count();
    if found == 0 {
        0.0
    } else {
        (40.0 + 60.0 * found as f64 / q.len() as f64).round()
    }
}

pub(crate) fn confidence(score: f64) -> &'static str {
    if score >= 85.0 {
        "high"
    } else if score >= 70.0 {
        "medium"
    } else {
        "low"
    }
}

/// The clips of one video matching a text query over the given options.
pub(crate) fn match_clips(
    video_id: &str,
    data: &VideoData,
    query: &str,
    options: &[String],
    exact: bool,
    and: bool,
) -> Vec<Value> {
    let mut clips = Vec::new();
    let mut hit_options = 0;
    for option in options {
        let mut any = false;
        for seg in data.segments(option) {
            let s = score(query, &seg.text, exact && option == "conversation");
            if s > 0.0 {
                any = true;
                let mut clip = json!({
                    "score": s, "start": seg.start, "end": seg.end, "video_id": video_id,
                    "confidence": confidence(s),
                    "thumbnail_url": format!("https://fake.twelvelabs.invalid/{video_id}/{}.jpg", seg.start),
                    "metadata": [{"type": option}],
                    "modules": [{"type": option, "confidence": confidence(s)}],
                });
                if (option == "conversation" || option == "text_in_video")
                    && let Some(first) = clip.pointer_mut("/metadata/0")
                {
                    first["text"] = json!(seg.text);
                }
                clips.push(clip);
            }
        }
        if any {
            hit_options += 1;
        }
    }
    if and && hit_options < options.len() {
        return Vec::new();
    }
    clips
}

/// A deterministic embedding of `input`: 1024 floats in [-0.1, 0.1].
pub(crate) fn embedding(input: &str) -> Vec<f64> {
    let seed = input.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..1024).map(|_| (rng.f64() - 0.5) / 5.0).collect()
}
