//! The message header at the start of a WhatsApp line, parsed on the *matching view*
//! (invisible marks removed, space variants mapped to ASCII space).
//!
//! One tolerant grammar covers the Android family (`DATE, TIME - `) and the iOS family
//! (`[DATE, TIME] `) with their locale variants; the file's *shape* (bracketed, separators,
//! year width, seconds, clock) is then voted on so that header-looking lines with another
//! shape stay continuation text.

/// 12-hour clock marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Meridiem {
    Am,
    Pm,
}

/// How the header ends before author/text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Closing {
    /// `] ` (iOS)
    Bracket,
    /// ` - ` or ` – ` (Android)
    Dash,
    /// `: ` right after the time (`13.06.18 21.25.15: a: m`)
    Colon,
    /// a plain space (`13. 6. 2018. 21:25:15 a: m`)
    Space,
}

/// The layout properties a file keeps from line to line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Shape {
    pub bracketed: bool,
    pub date_sep: u8,
    /// Index of the 4-digit year field, if one is 4 digits wide.
    pub year4_at: Option<u8>,
    pub time_sep: u8,
    pub seconds: bool,
    pub twelve_hour: bool,
    pub closing: Closing,
}

/// A parsed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub fields: [u32; 3],
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub meridiem: Option<Meridiem>,
    pub shape: Shape,
    /// Byte offset in the matching view where author/text starts.
    pub body_start: usize,
    /// Byte length of the timestamp text in the view (for `ts_raw`).
    pub ts_end: usize,
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, t: &str) -> bool {
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn spaces(&mut self) -> usize {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        self.i - start
    }
    fn number(&mut self, max_len: usize) -> Option<(u32, usize)> {
        let start = self.i;
        let mut v: u32 = 0;
        while let Some(b) = self.peek() {
            if !b.is_ascii_digit() || self.i - start == max_len {
                break;
            }
            v = v * 10 + u32::from(b - b'0');
            self.i += 1;
        }
        let len = self.i - start;
        (len > 0).then_some((v, len))
    }
}

const PREFIX_MARKERS: &[(&str, Meridiem)] = &[
    ("上午", Meridiem::Am),
    ("下午", Meridiem::Pm),
    ("午前", Meridiem::Am),
    ("午後", Meridiem::Pm),
    ("오전", Meridiem::Am),
    ("오후", Meridiem::Pm),
];

fn meridiem_suffix(c: &mut Cursor<'_>) -> Option<Meridiem> {
    let save = c.i;
    c.spaces();
    let m = match c.peek().map(|b| b.to_ascii_lowercase()) {
        Some(b'a') => Meridiem::Am,
        Some(b'p') => Meridiem::Pm,
        _ => {
            c.i = save;
            return None;
        }
    };
    c.i += 1;
    c.eat(b'.');
    c.spaces();
    if !matches!(c.peek(), Some(b'm') | Some(b'M')) {
        c.i = save;
        return None;
    }
    c.i += 1;
    c.eat(b'.');
    // "am" must end the token: "2:30 amigos" is not a marker.
    if c.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
        c.i = save;
        return None;
    }
    Some(m)
}

/// Parses a header at the start of `view`. Returns `None` when the line does not start
/// with something header-shaped.
pub fn parse(view: &str) -> Option<Header> {
    let mut c = Cursor {
        s: view.as_bytes(),
        i: 0,
    };
    let bracketed = c.eat(b'[');
    let mut fields = [0u32; 3];
    let mut widths = [0usize; 3];
    let (v, w) = c.number(4)?;
    fields[0] = v;
    widths[0] = w;
    let date_sep = c.peek()?;
    if !matches!(date_sep, b'/' | b'.' | b'-') {
        return None;
    }
    for k in 1..3 {
        if !c.eat(date_sep) {
            return None;
        }
        if date_sep == b'.' {
            c.spaces();
        }
        let (v, w) = c.number(4)?;
        fields[k] = v;
        widths[k] = w;
    }
    if widths.iter().filter(|&&w| w == 3).count() > 0 || widths.iter().filter(|&&w| w == 4).count() > 1 {
        return None;
    }
    c.eat(b'.'); // Croatian trailing dot: `13. 6. 2018.`
    let before_gap = c.i;
    c.eat(b',');
    c.spaces();
    // Finnish "klo" and similar words between date and time.
    let word_start = c.i;
    while c.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
        c.i += 1;
    }
    if c.i > word_start && (c.i - word_start > 4 || c.spaces() == 0) {
        return None;
    }
    let mut meridiem = None;
    for (marker, m) in PREFIX_MARKERS {
        if c.eat_str(marker) {
            meridiem = Some(*m);
            c.spaces();
            break;
        }
    }
    if c.i == before_gap {
        return None; // date and time must be separated
    }
    let (hour, _) = c.number(2)?;
    let time_sep = c.peek()?;
    if !matches!(time_sep, b':' | b'.') {
        return None;
    }
    c.i += 1;
    let (minute, mw) = c.number(2)?;
    if mw != 2 {
        return None;
    }
    let mut second = 0;
    let mut seconds = false;
    if c.peek() == Some(time_sep) && c.s.get(c.i + 1).is_some_and(u8::is_ascii_digit) {
        c.i += 1;
        let (s, sw) = c.number(2)?;
        if sw != 2 {
            return None;
        }
        second = s;
        seconds = true;
    }
    if meridiem.is_none() {
        meridiem = meridiem_suffix(&mut c);
    }
    let ts_end = c.i;
    let closing = if bracketed {
        if !c.eat(b']') {
            return None;
        }
        c.spaces();
        Closing::Bracket
    } else if c.eat_str(" - ") || c.eat_str(" \u{2013} ") {
        Closing::Dash
    } else if c.eat_str(": ") {
        Closing::Colon
    } else if c.eat(b' ') {
        Closing::Space
    } else {
        return None;
    };
    let year4_at = widths.iter().position(|&w| w == 4).map(|p| p as u8);
    Some(Header {
        fields,
        hour,
        minute,
        second,
        meridiem,
        shape: Shape {
            bracketed,
            date_sep,
            year4_at,
            time_sep,
            seconds,
            twelve_hour: meridiem.is_some(),
            closing,
        },
        body_start: c.i,
        ts_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Header {
        parse(s).unwrap_or_else(|| panic!("no header in {s:?}"))
    }

    #[test]
    fn locale_variants_parse() {
        let cases = [
            "06.08.2016, 13:23 - Ash Ketchum: Hey guys!",
            "3/6/18, 1:55 p.m. - a: m",
            "03-06-2018, 01.55 PM - a: m",
            "13.06.18 21.25.15: a: m",
            "[06.13.18 21:25:15] a: m",
            "13.6.2018 klo 21.25.15 - a: m",
            "13. 6. 2018. 21:25:15 a: m",
            "[3/6/18 1:55:00 p. m.] a: m",
            "[2018/06/13, 21:25:15] a: m",
            "[06/2018/13, 21:25:15] a: m",
            "3/6/2018 1:55 p. m. - a: m",
            "09/17/19, 8:30:52 AM \u{2013} John Doe: x",
            "[2024/10/31 下午3:50:46] 王小明: 你好",
        ];
        for case in cases {
            let h = p(case);
            let body = &case[h.body_start..];
            assert!(
                ["王", "Ash", "John", "a: m"].iter().any(|p| body.starts_with(p)),
                "{case}: body {body:?}"
            );
        }
        let h = p("[2024/10/31 下午3:50:46] x: y");
        assert_eq!((h.hour, h.meridiem), (3, Some(Meridiem::Pm)));
        let h = p("13.06.18 21.25.15: a: m");
        assert_eq!(h.shape.closing, Closing::Colon);
        assert_eq!((h.hour, h.minute, h.second), (21, 25, 15));
    }

    #[test]
    fn non_headers_are_rejected() {
        for s in [
            "hello there",
            "2016-04-29 10:30:00",
            "12/12/19: Departure",
            "2/11/19: Arrival",
            "1.2.3",
            "",
        ] {
            assert!(parse(s).is_none(), "{s:?}");
        }
    }
}
