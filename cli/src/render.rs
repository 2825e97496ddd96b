//! Everything that turns results into text for a person: tables, times as mm:ss, sizes, colours.
//! Kept in one place so it can follow the library's own `Display` implementations later.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use serde::Serialize;

use crate::Global;
use crate::error::CliError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Human,
    Json,
    Jsonl,
}

#[derive(Clone, Copy, Debug)]
struct Settings {
    colors: bool,
    bars: bool,
    quiet: bool,
    verbose: u8,
    mode: Mode,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

fn settings() -> Settings {
    *SETTINGS.get_or_init(|| Settings {
        colors: false,
        bars: false,
        quiet: false,
        verbose: 0,
        mode: Mode::Human,
    })
}

/// Decides once: colours and bars only on a terminal (stderr), never with `NO_COLOR` (colours) or
/// `--quiet` (both).
pub fn init(g: &Global) {
    let tty = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let term_dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    let mode = if g.json {
        Mode::Json
    } else if g.jsonl {
        Mode::Jsonl
    } else {
        Mode::Human
    };
    let s = Settings {
        colors: tty && !no_color && !term_dumb && !g.quiet,
        bars: tty && !term_dumb && !g.quiet,
        quiet: g.quiet,
        verbose: g.verbose,
        mode,
    };
    let _ = SETTINGS.set(s);
    console::set_colors_enabled(s.colors);
    console::set_colors_enabled_stderr(s.colors);
}

pub fn colors() -> bool {
    settings().colors
}
pub fn bars() -> bool {
    settings().bars
}
pub fn quiet() -> bool {
    settings().quiet
}
pub fn verbose() -> u8 {
    settings().verbose
}
pub fn mode() -> Mode {
    settings().mode
}

fn paint(s: &str, style: console::Style) -> String {
    if colors() {
        style.apply_to(s).to_string()
    } else {
        s.to_owned()
    }
}
pub fn red(s: &str) -> String {
    paint(s, console::Style::new().red().bold())
}
pub fn green(s: &str) -> String {
    paint(s, console::Style::new().green())
}
pub fn yellow(s: &str) -> String {
    paint(s, console::Style::new().yellow())
}
pub fn dim(s: &str) -> String {
    paint(s, console::Style::new().dim())
}
pub fn bold(s: &str) -> String {
    paint(s, console::Style::new().bold())
}

/// A message on stderr, unless `--quiet`.
pub fn note(msg: impl AsRef<str>) {
    if !quiet() {
        eprintln!("{}", msg.as_ref());
    }
}

/// Writes to stdout; a closed pipe (`| head`) ends the program quietly.
pub fn out(text: impl AsRef<str>) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_ref().as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(CliError::new(format!("cannot write to stdout: {e}"))),
    }
}

pub fn json_line<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let line = serde_json::to_string(value)
        .map_err(|e| CliError::new(format!("cannot encode JSON: {e}")))?;
    out(format!("{line}\n"))
}

pub fn json_doc<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let doc = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::new(format!("cannot encode JSON: {e}")))?;
    out(format!("{doc}\n"))
}

/// Prints a list in the chosen mode: a table, one JSON array, or a JSON line per item.
pub fn list<T: Serialize>(
    items: &[T],
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<(), CliError> {
    match mode() {
        Mode::Json => json_doc(items),
        Mode::Jsonl => items.iter().try_for_each(|i| json_line(i)),
        Mode::Human => {
            if items.is_empty() {
                note(dim("(none)"));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = items.iter().map(row).collect();
            out(table(headers, &rows))
        }
    }
}

/// A plain-text table: a header line, then aligned columns separated by two spaces. The last
/// column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers
        .iter()
        .map(|h| console::measure_text_width(h))
        .collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = console::measure_text_width(&clean(cell));
            match widths.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut s = String::new();
    let line = |cells: Vec<String>, s: &mut String, header: bool| {
        let n = cells.len();
        let mut parts = Vec::with_capacity(n);
        for (i, cell) in cells.into_iter().enumerate() {
            let cell = clean(&cell);
            let w = widths.get(i).copied().unwrap_or(0);
            let pad = w.saturating_sub(console::measure_text_width(&cell));
            let cell = if header { bold(&cell) } else { cell };
            if i + 1 == n {
                parts.push(cell);
            } else {
                parts.push(format!("{cell}{}", " ".repeat(pad)));
            }
        }
        s.push_str(parts.join("  ").trim_end());
        s.push('\n');
    };
    line(
        headers.iter().map(|h| (*h).to_owned()).collect(),
        &mut s,
        true,
    );
    for row in rows {
        line(row.clone(), &mut s, false);
    }
    s
}

/// Generated text for stdout: on a terminal, control characters other than newlines and tabs
/// (escape sequences a server could send) are blanked.
pub fn text(s: &str) -> String {
    if std::io::stdout().is_terminal() {
        s.chars()
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    ' '
                } else {
                    c
                }
            })
            .collect()
    } else {
        s.to_owned()
    }
}

/// Control characters from the server never reach the terminal as such.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Seconds as the library shows them: `m:ss`, or `h:mm:ss` from an hour on
/// ([`twelvelabs::model::Clock`]).
pub fn mmss(secs: f64) -> String {
    twelvelabs::model::Clock(secs).to_string()
}

/// A span as the library shows it (`1:05–1:12`); just the start when there is no end.
pub fn span(start: Option<f64>, end: Option<f64>) -> String {
    match (start, end) {
        (Some(start), Some(end)) => twelvelabs::model::Span { start, end }.to_string(),
        (Some(s), None) => mmss(s),
        _ => String::new(),
    }
}

pub fn score(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map(|v| format!("{v:.1}"))
        .unwrap_or_default()
}

pub fn bytes(n: u64) -> String {
    indicatif::BinaryBytes(n).to_string()
}

pub fn date(d: Option<chrono::DateTime<chrono::Utc>>) -> String {
    d.map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_minutes_and_seconds() {
        assert_eq!(mmss(0.0), "0:00");
        assert_eq!(mmss(65.4), "1:05");
        assert_eq!(mmss(72.5), "1:12");
        assert_eq!(mmss(3725.0), "1:02:05");
        assert_eq!(mmss(f64::NAN), "--:--");
        assert_eq!(mmss(-1.0), "--:--");
        assert_eq!(span(Some(65.0), Some(72.5)), "1:05–1:12");
        assert_eq!(span(None, Some(1.0)), "");
        assert_eq!(score(Some(83.456)), "83.5");
        assert_eq!(score(Some(f64::INFINITY)), "");
    }

    #[test]
    fn tables_align_by_display_width_and_blank_control_characters() {
        let t = table(
            &["NAME", "N"],
            &[
                vec!["ééé".into(), "1".into()],
                vec!["a\u{1b}[2Jb".into(), "22".into()],
            ],
        );
        assert_eq!(t, "NAME    N\nééé     1\na [2Jb  22\n");
    }
}
