//! The scanner: text to tokens, following the rules of EMQX's `hocon_scanner.xrl`.

use crate::ParseError;

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Comma,
    Colon,
    Equals,
    Newline,
    Eof,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String, StrStyle),
}

/// How a string token was written; decides how it reads as a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrStyle {
    /// `abc.def`: a key made of it is a path.
    Unquoted,
    /// `"..."`.
    Quoted,
    /// `"""..."""`.
    TripleQuoted,
    /// A duration, byte size or percentage such as `15s`, `1GB`, `80%`.
    Unit,
}

/// A token with its position: 1-based line and column, and its byte span in the source.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub line: usize,
    pub column: usize,
    pub start: usize,
    pub end: usize,
}

/// Suffixes that turn digits into a byte size or duration string, two-char ones first so
/// that the longest match wins (`5ms` is a duration, not `5m` followed by `s`).
const UNIT_SUFFIXES: [&str; 19] = [
    "ms", "MS", "kb", "KB", "mb", "MB", "gb", "GB", "d", "D", "h", "H", "m", "M", "s", "S", "b",
    "B", "%",
];

fn is_newline(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

fn is_whitespace(c: char) -> bool {
    matches!(c, '\t' | '\u{0B}' | '\u{0C}' | ' ' | '\u{A0}')
}

/// Chars that may follow the leading letter of an unquoted string.
fn is_unquoted_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '%' | '-' | '|')
}

/// Splits a whole text into tokens, the last one being [`Tok::Eof`].
#[cfg(test)]
fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let mut lexer = Lexer::new(src);
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.tok == Tok::Eof;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

/// The value of `text` if it is exactly one quoted or triple-quoted string literal.
/// The printer uses it to check a rendering before trusting it.
pub(crate) fn read_string_literal(text: &str) -> Option<String> {
    let mut lexer = Lexer::new(text);
    let token = lexer.next_token().ok()?;
    match token.tok {
        Tok::Str(s, StrStyle::Quoted | StrStyle::TripleQuoted) if token.end == text.len() => {
            Some(s)
        }
        _ => None,
    }
}

/// Reads tokens one at a time, so that errors come in source order.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    column: usize,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Self {
            src,
            pos: 0,
            line: 1,
            column: 1,
        }
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.rest().chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        let crlf = c == '\r' && self.peek() == Some('\n');
        if is_newline(c) && !crlf {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn bump_while(&mut self, pred: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&pred) {
            self.bump();
        }
    }

    fn error_here(&self, message: impl Into<String>) -> ParseError {
        ParseError::new(self.line, self.column, message)
    }

    fn skip_ignored(&mut self) {
        loop {
            match self.peek() {
                Some(c) if is_whitespace(c) => {
                    self.bump();
                }
                Some('#') => self.bump_while(|c| !is_newline(c)),
                Some('/') if self.peek_at(1) == Some('/') => self.bump_while(|c| !is_newline(c)),
                _ => return,
            }
        }
    }

    /// The next token; at the end of the input, [`Tok::Eof`] every time.
    pub(crate) fn next_token(&mut self) -> Result<Token, ParseError> {
        self.skip_ignored();
        let (line, column, start) = (self.line, self.column, self.pos);
        let tok = match self.peek() {
            None => Tok::Eof,
            Some(c) => self.token_starting_with(c)?,
        };
        Ok(Token {
            tok,
            line,
            column,
            start,
            end: self.pos,
        })
    }

    fn token_starting_with(&mut self, c: char) -> Result<Tok, ParseError> {
        let punct = match c {
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ',' => Some(Tok::Comma),
            ':' => Some(Tok::Colon),
            '=' => Some(Tok::Equals),
            _ => None,
        };
        if let Some(tok) = punct {
            self.bump();
            return Ok(tok);
        }
        match c {
            '\r' => {
                self.bump();
                if self.peek() == Some('\n') {
                    self.bump();
                }
                Ok(Tok::Newline)
            }
            c if is_newline(c) => {
                self.bump();
                Ok(Tok::Newline)
            }
            '"' if self.rest().starts_with("\"\"\"") => self.triple_quoted(),
            '"' => self.quoted(),
            '$' if self.peek_at(1) == Some('{') => {
                Err(self.error_here("substitutions are not supported"))
            }
            c if c.is_ascii_alphabetic() => Ok(self.unquoted()),
            '0'..='9' | '+' | '-' | '.' => self.number(),
            _ => Err(self.error_here(format!("unexpected character {c:?}"))),
        }
    }

    fn unquoted(&mut self) -> Tok {
        let start = self.pos;
        self.bump();
        self.bump_while(is_unquoted_char);
        match &self.src[start..self.pos] {
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "null" => Tok::Null,
            text => Tok::Str(text.to_owned(), StrStyle::Unquoted),
        }
    }

    fn number(&mut self) -> Result<Tok, ParseError> {
        let (start, line, column) = (self.pos, self.line, self.column);
        let signed = matches!(self.peek(), Some('+' | '-'));
        if signed {
            self.bump();
        }
        let digits_start = self.pos;
        self.bump_while(|c| c.is_ascii_digit());
        let has_digits = self.pos > digits_start;
        let fraction_follows =
            self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit());
        // As in EMQX, a float without an integer part (`.5`) takes no sign and no exponent.
        if fraction_follows && (has_digits || !signed) {
            self.bump();
            self.bump_while(|c| c.is_ascii_digit());
            if has_digits && matches!(self.peek(), Some('e' | 'E')) {
                let sign_len = usize::from(matches!(self.peek_at(1), Some('+' | '-')));
                if self
                    .peek_at(1 + sign_len)
                    .is_some_and(|c| c.is_ascii_digit())
                {
                    for _ in 0..=sign_len {
                        self.bump();
                    }
                    self.bump_while(|c| c.is_ascii_digit());
                }
            }
            let text = &self.src[start..self.pos];
            return match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
                _ => Err(ParseError::new(
                    line,
                    column,
                    format!("float {text} is out of range"),
                )),
            };
        }
        if !has_digits {
            let c = self.src[start..].chars().next().unwrap_or('?');
            return Err(ParseError::new(
                line,
                column,
                format!("unexpected character {c:?}"),
            ));
        }
        if !signed {
            if let Some(suffix) = UNIT_SUFFIXES.iter().find(|s| self.rest().starts_with(**s)) {
                for _ in 0..suffix.len() {
                    self.bump();
                }
                return Ok(Tok::Str(
                    self.src[start..self.pos].to_owned(),
                    StrStyle::Unit,
                ));
            }
        }
        let text = &self.src[start..self.pos];
        text.parse::<i64>().map(Tok::Int).map_err(|_| {
            ParseError::new(
                line,
                column,
                format!("integer {text} does not fit in 64 bits"),
            )
        })
    }

    fn quoted(&mut self) -> Result<Tok, ParseError> {
        let opening = self.error_here("unterminated quoted string");
        self.bump();
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(opening),
                Some(c) if is_newline(c) => return Err(opening),
                Some('"') => {
                    self.bump();
                    return Ok(Tok::Str(value, StrStyle::Quoted));
                }
                Some('\\') => {
                    let escape = self.error_here("invalid \\u escape");
                    self.bump();
                    let unescaped = match self.peek() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('b') => '\u{08}',
                        Some('f') => '\u{0C}',
                        Some('u') => {
                            value.push(self.unicode_escape().ok_or(escape)?);
                            continue;
                        }
                        // Any other backslash is kept as it is, like EMQX does.
                        _ => {
                            value.push('\\');
                            continue;
                        }
                    };
                    self.bump();
                    value.push(unescaped);
                }
                Some(c) => {
                    self.bump();
                    value.push(c);
                }
            }
        }
    }

    /// Reads `uXXXX` (after the backslash), and a second `\uXXXX` for a surrogate pair.
    fn unicode_escape(&mut self) -> Option<char> {
        self.bump();
        let high = self.hex4()?;
        if (0xDC00..=0xDFFF).contains(&high) {
            return None;
        }
        if !(0xD800..=0xDBFF).contains(&high) {
            return char::from_u32(high);
        }
        if !self.rest().starts_with("\\u") {
            return None;
        }
        self.bump();
        self.bump();
        let low = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&low) {
            return None;
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut n = 0;
        for _ in 0..4 {
            let digit = self.peek()?.to_digit(16)?;
            self.bump();
            n = n * 16 + digit;
        }
        Some(n)
    }

    fn triple_quoted(&mut self) -> Result<Tok, ParseError> {
        let opening = self.error_here("unterminated triple-quoted string");
        for _ in 0..3 {
            self.bump();
        }
        let content_len = self.rest().find("\"\"\"").ok_or(opening)?;
        let content_end = self.pos + content_len;
        let content = &self.src[self.pos..content_end];
        while self.pos < content_end + 3 {
            self.bump();
        }
        Ok(Tok::Str(unindent(content), StrStyle::TripleQuoted))
    }
}

/// The value of a triple-quoted string from its raw content, as EMQX's `unindent/1` computes it.
///
/// Content starting with `~` and a newline is an indented multiline string: the common
/// indentation is removed and a `~` ending the last line is dropped. Other content is raw.
pub(crate) fn unindent(raw: &str) -> String {
    let Some(rest) = raw
        .strip_prefix("~\r\n")
        .or_else(|| raw.strip_prefix("~\n"))
    else {
        return raw.to_owned();
    };
    let mut lines: Vec<&str> = rest.split('\n').collect();
    if let Some(last) = lines.last_mut() {
        if let Some(trimmed) = last.strip_suffix('~') {
            *last = trimmed;
        }
    }
    let indent = min_indent(&lines);
    let trimmed: Vec<&str> = lines.iter().map(|l| trim_indent(l, indent)).collect();
    trimmed.join("\n")
}

/// Leading spaces of a line, or `None` for the empty and `\r`-only lines that do not count.
fn indent_level(line: &str) -> Option<usize> {
    if line.is_empty() || line == "\r" {
        None
    } else {
        Some(line.len() - line.trim_start_matches(' ').len())
    }
}

fn min_indent(lines: &[&str]) -> usize {
    let Some((last, init)) = lines.split_last() else {
        return 0;
    };
    if init.is_empty() {
        return indent_level(last).unwrap_or(0);
    }
    let min = init
        .iter()
        .filter_map(|l| indent_level(l))
        .min()
        .unwrap_or(0);
    // A last line of spaces only (the closing `~` line) may be indented less than the rest.
    if !last.is_empty() && last.bytes().all(|b| b == b' ') {
        min
    } else {
        indent_level(last).map_or(min, |l| l.min(min))
    }
}

fn trim_indent(line: &str, indent: usize) -> &str {
    if line == "\r" {
        return line;
    }
    let spaces = line.len() - line.trim_start_matches(' ').len();
    &line[spaces.min(indent)..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .filter(|t| *t != Tok::Eof)
            .collect()
    }

    fn one(src: &str) -> Tok {
        let mut t = toks(src);
        assert_eq!(t.len(), 1, "{src:?} gave {t:?}");
        t.remove(0)
    }

    fn unquoted(s: &str) -> Tok {
        Tok::Str(s.into(), StrStyle::Unquoted)
    }

    fn unit(s: &str) -> Tok {
        Tok::Str(s.into(), StrStyle::Unit)
    }

    fn quoted(s: &str) -> Tok {
        Tok::Str(s.into(), StrStyle::Quoted)
    }

    fn err(src: &str) -> ParseError {
        tokenize(src).unwrap_err()
    }

    #[test]
    fn punctuation() {
        use Tok::*;
        assert_eq!(
            toks("{}[],:="),
            [LBrace, RBrace, LBracket, RBracket, Comma, Colon, Equals]
        );
    }

    #[test]
    fn whitespace_is_skipped() {
        assert_eq!(
            toks("\t\u{0B}\u{0C} \u{A0}a\u{A0}b"),
            [unquoted("a"), unquoted("b")]
        );
    }

    #[test]
    fn every_newline_kind_is_a_newline_token() {
        use Tok::*;
        assert_eq!(
            toks("\n\r\u{2028}\u{2029}\r\n"),
            [Newline, Newline, Newline, Newline, Newline]
        );
    }

    #[test]
    fn comments_run_to_the_end_of_the_line() {
        use Tok::*;
        assert_eq!(
            toks("a # x = 1 }\nb // y\n// z\r\nc#"),
            [
                unquoted("a"),
                Newline,
                unquoted("b"),
                Newline,
                Newline,
                unquoted("c")
            ]
        );
        assert_eq!(err("a/b").message(), "unexpected character '/'");
    }

    #[test]
    fn keywords() {
        assert_eq!(one("null"), Tok::Null);
        assert_eq!(one("true"), Tok::Bool(true));
        assert_eq!(one("false"), Tok::Bool(false));
        assert_eq!(one("nullx"), unquoted("nullx"));
        assert_eq!(one("true.x"), unquoted("true.x"));
        assert_eq!(one("include"), unquoted("include"));
    }

    #[test]
    fn integers() {
        assert_eq!(one("0"), Tok::Int(0));
        assert_eq!(one("5683"), Tok::Int(5683));
        assert_eq!(one("-12"), Tok::Int(-12));
        assert_eq!(one("+12"), Tok::Int(12));
        assert_eq!(one("9223372036854775807"), Tok::Int(i64::MAX));
        assert_eq!(one("-9223372036854775808"), Tok::Int(i64::MIN));
    }

    #[test]
    fn integer_overflow_is_an_error() {
        let e = err("a = 9223372036854775808");
        assert_eq!((e.line(), e.column()), (1, 5));
        assert!(e.message().contains("does not fit in 64 bits"), "{e}");
        let e = err("\n\n  -99999999999999999999");
        assert_eq!((e.line(), e.column()), (3, 3));
    }

    #[test]
    fn floats() {
        assert_eq!(one("1.5"), Tok::Float(1.5));
        assert_eq!(one(".5"), Tok::Float(0.5));
        assert_eq!(one("-0.25"), Tok::Float(-0.25));
        assert_eq!(one("+0.25"), Tok::Float(0.25));
        assert_eq!(one("1.5e3"), Tok::Float(1500.0));
        assert_eq!(one("1.5E-3"), Tok::Float(0.0015));
        assert_eq!(one("2.0e+2"), Tok::Float(200.0));
        // An exponent needs a fraction, and an integer part before it.
        assert_eq!(toks("1e5"), [Tok::Int(1), unquoted("e5")]);
        assert_eq!(toks(".5e3"), [Tok::Float(0.5), unquoted("e3")]);
        assert_eq!(toks("1.5e"), [Tok::Float(1.5), unquoted("e")]);
        assert!(err("1.0e999").message().contains("out of range"));
        assert!(err("-.5").message().contains("unexpected character '-'"));
        assert!(err("5.").message().contains("unexpected character '.'"));
    }

    #[test]
    fn units_are_strings() {
        for s in [
            "1m", "15s", "5S", "2h", "2H", "7d", "7D", "3M", "100ms", "100MS", "1GB", "1gb", "2mb",
            "2MB", "896KB", "3kb", "8b", "8B", "80%",
        ] {
            assert_eq!(one(s), unit(s), "{s}");
        }
        assert_eq!(toks("5min"), [unit("5m"), unquoted("in")]);
        assert_eq!(toks("5Mb"), [unit("5M"), unquoted("b")]);
        assert_eq!(toks("-5s"), [Tok::Int(-5), unquoted("s")]);
    }

    #[test]
    fn unquoted_strings() {
        assert_eq!(one("verify_peer"), unquoted("verify_peer"));
        assert_eq!(one("a.b-c@d%e|f_9"), unquoted("a.b-c@d%e|f_9"));
        assert_eq!(one("content-type"), unquoted("content-type"));
        assert_eq!(toks("a b"), [unquoted("a"), unquoted("b")]);
        assert!(err("_a").message().contains("unexpected character '_'"));
        assert!(err("caf\u{e9}").message().contains("unexpected character"));
        assert!(err("a = *").message().contains("unexpected character '*'"));
    }

    #[test]
    fn quoted_escapes() {
        assert_eq!(
            one(r#""\\ \" \n \t \r \b \f""#),
            quoted("\\ \" \n \t \r \u{8} \u{C}")
        );
        assert_eq!(one(r#""a\qb""#), quoted("a\\qb"));
        assert_eq!(one(r#""a\/b""#), quoted("a\\/b"));
        assert_eq!(one(r#""\u00e9\u4E2D""#), quoted("é中"));
        assert_eq!(one(r#""\ud83d\ude00""#), quoted("😀"));
        assert_eq!(one("\"raw\ttab é\""), quoted("raw\ttab é"));
        assert_eq!(one(r#""${username}""#), quoted("${username}"));
        assert_eq!(one(r#""""#), quoted(""));
    }

    #[test]
    fn invalid_unicode_escapes() {
        for src in [
            r#""\u12""#,
            r#""\u12G4""#,
            r#""\ud83d""#,
            r#""\ud83dx""#,
            r#""\ud83d\u0041""#,
            r#""\ude00""#,
        ] {
            let e = err(src);
            assert!(e.message().contains("invalid \\u escape"), "{src}: {e}");
            assert_eq!((e.line(), e.column()), (1, 2), "{src}");
        }
    }

    #[test]
    fn unterminated_quoted_strings() {
        for src in ["\"abc", "\"abc\nd\"", "x = \"a\\\"", "\"a\u{2028}\""] {
            let e = err(src);
            assert_eq!(e.message(), "unterminated quoted string", "{src:?}");
        }
        assert_eq!(err("a = 1\nb = \"x").column(), 5);
        assert_eq!(err("a = 1\nb = \"x").line(), 2);
    }

    #[test]
    fn triple_quoted_is_raw() {
        assert_eq!(
            one(r#""""a\nb"c""d""""#),
            Tok::Str(r#"a\nb"c""d"#.into(), StrStyle::TripleQuoted)
        );
        assert_eq!(
            one("\"\"\"line1\nline2\"\"\""),
            Tok::Str("line1\nline2".into(), StrStyle::TripleQuoted)
        );
        // The first `"""` closes the string.
        let e = err("\"\"\"a\"\"\"\"");
        assert_eq!((e.column(), e.message()), (8, "unterminated quoted string"));
        let e = err("x = 1\n y = \"\"\"abc\n");
        assert_eq!(
            (e.line(), e.column(), e.message()),
            (2, 6, "unterminated triple-quoted string")
        );
    }

    #[test]
    fn positions_follow_lines_inside_triple_quotes() {
        let tokens = tokenize("a = \"\"\"x\ny\"\"\" b\r\nc").unwrap();
        let b = tokens.iter().find(|t| t.tok == unquoted("b")).unwrap();
        assert_eq!((b.line, b.column), (2, 6));
        let c = tokens.iter().find(|t| t.tok == unquoted("c")).unwrap();
        assert_eq!((c.line, c.column), (3, 1));
    }

    #[test]
    fn substitution_is_an_error() {
        let e = err("a = 1\nb = ${a}");
        assert_eq!(
            (e.line(), e.column(), e.message()),
            (2, 5, "substitutions are not supported")
        );
        assert_eq!(
            err("b = ${?a}").message(),
            "substitutions are not supported"
        );
        assert_eq!(err("b = $a").message(), "unexpected character '$'");
    }

    #[test]
    fn unindent_examples() {
        assert_eq!(unindent("~\n  a\n  b~"), "a\nb");
        assert_eq!(unindent("~\n  a\n~"), "a\n");
        assert_eq!(unindent("~\n    a\n    b\n  ~"), "a\nb\n");
        assert_eq!(unindent("~\r\n  a\r\n  b~"), "a\r\nb");
        assert_eq!(unindent("~\n    a\n\n      b\n  ~"), "a\n\n  b\n");
        assert_eq!(unindent("~\n  a\n\r\n  b~"), "a\n\r\nb");
        assert_eq!(unindent("no tilde\n  x"), "no tilde\n  x");
        assert_eq!(unindent("~x\n  y"), "~x\n  y");
        assert_eq!(unindent("~\n"), "");
        assert_eq!(unindent("~\n   ~"), "");
        assert_eq!(unindent("~\n   x"), "x");
    }

    #[test]
    fn unindent_last_line_rules() {
        // An all-space last line may be shallower than the others; it does not lower the minimum.
        assert_eq!(unindent("~\n    a\n  "), "a\n");
        // A deeper all-space last line keeps its extra spaces.
        assert_eq!(unindent("~\n  a\n    ~"), "a\n  ");
        // A last line with text counts.
        assert_eq!(unindent("~\n    a\n  b~"), "  a\nb");
        // An empty last line is ignored.
        assert_eq!(unindent("~\n  a\n"), "a\n");
        // Leading spaces shared by every line are lost: the printer must check for this.
        assert_eq!(unindent("~\n   a\n   b~"), "a\nb");
    }

    #[test]
    fn triple_quoted_with_tilde_is_unindented() {
        assert_eq!(
            one("\"\"\"~\n    a\n    b\n  ~\"\"\""),
            Tok::Str("a\nb\n".into(), StrStyle::TripleQuoted)
        );
    }

    #[test]
    fn read_string_literal_accepts_exactly_one_literal() {
        assert_eq!(read_string_literal(r#""a\nb""#), Some("a\nb".into()));
        assert_eq!(read_string_literal("\"\"\"a\"b\"\"\""), Some("a\"b".into()));
        assert_eq!(read_string_literal(r#""a" "b""#), None);
        assert_eq!(read_string_literal("abc"), None);
        assert_eq!(read_string_literal("\"abc"), None);
    }
}
