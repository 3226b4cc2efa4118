//! The parser: tokens to values, with EMQX's rules for keys, separators and duplicate keys.
//!
//! It keeps open objects and arrays on an explicit stack instead of recursing, so no input can
//! overflow the call stack; nesting is limited to [`MAX_DEPTH`] levels.

use crate::lexer::{Lexer, StrStyle, Tok, Token};
use crate::{Object, ParseError, Value};

/// The deepest nesting of objects and arrays accepted (path keys such as `a.b.c` count too).
/// EMQX's configs nest under 20 levels; 100 keeps every tree within the 128 levels that
/// `serde_json` reads back, as the plugins receive config as JSON.
pub const MAX_DEPTH: usize = 100;

/// Parses a whole file: the fields of the root object, with or without surrounding braces.
pub(crate) fn parse_root(src: &str) -> Result<Object, ParseError> {
    let mut parser = Parser::new(src)?;
    parser.skip_newlines()?;
    let open = if parser.peek().tok == Tok::LBrace {
        Some(parser.advance()?)
    } else {
        None
    };
    let root = parser.run(Frame::object(open, 0))?;
    parser.expect_end("the root object")?;
    match root {
        Value::Object(object) => Ok(object),
        _ => unreachable!("the root frame is an object"),
    }
}

/// Parses a single value, as it would appear after `key = `.
pub(crate) fn parse_single_value(src: &str) -> Result<Value, ParseError> {
    let mut parser = Parser::new(src)?;
    let value = parser.run(Frame::Single)?;
    parser.expect_end("the value")?;
    Ok(value)
}

/// An object or array whose closing bracket has not been reached yet.
enum Frame {
    Object {
        /// The `{`, or `None` for a root without braces (closed by the end of input).
        open: Option<Token>,
        level: usize,
        object: Object,
        /// The key path of the field whose value is being read.
        path: Vec<String>,
    },
    Array {
        open: Token,
        level: usize,
        elements: Vec<Value>,
    },
    /// The bottom of the stack for [`parse_single_value`]: takes one value.
    Single,
}

impl Frame {
    fn object(open: Option<Token>, level: usize) -> Self {
        Frame::Object {
            open,
            level,
            object: Object::new(),
            path: Vec::new(),
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    /// The lookahead token.
    next: Token,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Result<Self, ParseError> {
        let mut lexer = Lexer::new(src);
        let next = lexer.next_token()?;
        Ok(Self { src, lexer, next })
    }

    fn peek(&self) -> &Token {
        &self.next
    }

    /// Takes the lookahead token and reads the one after it.
    fn advance(&mut self) -> Result<Token, ParseError> {
        let following = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.next, following))
    }

    fn skip_newlines(&mut self) -> Result<(), ParseError> {
        while self.next.tok == Tok::Newline {
            self.advance()?;
        }
        Ok(())
    }

    fn expect_end(&mut self, what: &str) -> Result<(), ParseError> {
        self.skip_newlines()?;
        let token = self.peek();
        if token.tok == Tok::Eof {
            Ok(())
        } else {
            Err(error_at(
                token,
                format!("unexpected {} after {what}", describe(&token.tok)),
            ))
        }
    }

    /// Reads items into `bottom` and the containers opened inside it, until `bottom` is
    /// complete, and returns its value.
    fn run(&mut self, bottom: Frame) -> Result<Value, ParseError> {
        let mut stack = vec![bottom];
        loop {
            self.skip_newlines()?;
            let Some(top) = stack.last_mut() else {
                unreachable!("the stack is never left empty");
            };
            let value = if self.closes(top)? {
                if self.peek().tok != Tok::Eof {
                    self.advance()?;
                }
                let value = match stack.pop() {
                    Some(Frame::Object { object, .. }) => Value::Object(object),
                    Some(Frame::Array { elements, .. }) => Value::Array(elements),
                    _ => unreachable!("a single-value frame never closes"),
                };
                if stack.is_empty() {
                    return Ok(value);
                }
                value
            } else {
                let level = match top {
                    Frame::Object { level, path, .. } => {
                        *path = self.field_key(*level)?;
                        *level + path.len() - 1
                    }
                    Frame::Array { level, .. } => *level,
                    Frame::Single => 0,
                };
                let token = self.advance()?;
                match token.tok {
                    Tok::LBrace | Tok::LBracket if level >= MAX_DEPTH => {
                        return Err(too_deep(&token))
                    }
                    Tok::LBrace => {
                        stack.push(Frame::object(Some(token), level + 1));
                        continue;
                    }
                    Tok::LBracket => {
                        stack.push(Frame::Array {
                            open: token,
                            level: level + 1,
                            elements: Vec::new(),
                        });
                        continue;
                    }
                    _ => self.scalar(token)?,
                }
            };
            let next = self.peek();
            if let Some(next_kind) = value_kind(&next.tok) {
                return Err(concat_error(next, value.kind(), next_kind));
            }
            let Some(top) = stack.last_mut() else {
                unreachable!("the stack is never left empty");
            };
            match top {
                Frame::Object { object, path, .. } => {
                    let mut value = value;
                    while path.len() > 1 {
                        let key = path.pop().unwrap_or_default();
                        value = Value::Object(Object::from_iter([(key, value)]));
                    }
                    merge_field(object, path.pop().unwrap_or_default(), value);
                }
                Frame::Array { elements, .. } => elements.push(value),
                Frame::Single => return Ok(value),
            }
            self.separator(top)?;
        }
    }

    /// Whether the next token closes `frame`; an error if the input ends inside it.
    fn closes(&self, frame: &Frame) -> Result<bool, ParseError> {
        let token = self.peek();
        match (frame, &token.tok) {
            (Frame::Object { open: Some(_), .. }, Tok::RBrace) => Ok(true),
            (Frame::Object { open: None, .. }, Tok::Eof) => Ok(true),
            (
                Frame::Object {
                    open: Some(open), ..
                },
                Tok::Eof,
            ) => Err(unclosed(token, open)),
            (Frame::Array { .. }, Tok::RBracket) => Ok(true),
            (Frame::Array { open, .. }, Tok::Eof) => Err(unclosed(token, open)),
            _ => Ok(false),
        }
    }

    /// Consumes what may follow an item of `frame`: a comma, or nothing before a newline, the
    /// end of input or the closing bracket.
    fn separator(&mut self, frame: &Frame) -> Result<(), ParseError> {
        let token = self.peek();
        let what = match (frame, &token.tok) {
            (_, Tok::Comma) => {
                self.advance()?;
                return Ok(());
            }
            (_, Tok::Newline | Tok::Eof)
            | (Frame::Object { open: Some(_), .. }, Tok::RBrace)
            | (Frame::Array { .. }, Tok::RBracket) => return Ok(()),
            (Frame::Array { .. }, _) => "an array element",
            _ => "a field",
        };
        Err(error_at(
            token,
            format!(
                "expected ',' or a newline after {what}, found {}",
                describe(&token.tok)
            ),
        ))
    }

    /// Reads a key and its `=`, `:` (or the `{` that follows, left unread), and returns the
    /// key path. Its value will sit inside a container at `level`.
    fn field_key(&mut self, level: usize) -> Result<Vec<String>, ParseError> {
        let key_token = self.advance()?;
        let path = self.key_path(&key_token)?;
        if level + path.len() - 1 > MAX_DEPTH {
            return Err(too_deep(&key_token));
        }
        self.skip_newlines()?;
        let token = self.peek();
        match token.tok {
            Tok::Equals | Tok::Colon => {
                self.advance()?;
                self.skip_newlines()?;
            }
            Tok::LBrace => {}
            _ => {
                return Err(error_at(
                    token,
                    format!(
                        "expected '=', ':' or '{{' after key {:?}, found {}",
                        path.join("."),
                        describe(&token.tok)
                    ),
                ))
            }
        }
        Ok(path)
    }

    /// The path a key token names: unquoted keys split on `.`, quoted keys are one segment.
    fn key_path(&self, token: &Token) -> Result<Vec<String>, ParseError> {
        match &token.tok {
            Tok::Str(s, StrStyle::Quoted | StrStyle::TripleQuoted) => Ok(vec![s.clone()]),
            Tok::Str(s, StrStyle::Unquoted) if s == "include" => {
                Err(error_at(token, "include directives are not supported"))
            }
            Tok::Str(_, StrStyle::Unquoted | StrStyle::Unit)
            | Tok::Int(_)
            | Tok::Float(_)
            | Tok::Bool(_)
            | Tok::Null => {
                // As EMQX does (`string:tokens/2`), empty segments are dropped.
                let text = &self.src[token.start..token.end];
                let path: Vec<String> = text
                    .split('.')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if path.is_empty() {
                    Err(error_at(token, format!("invalid key {text:?}")))
                } else {
                    Ok(path)
                }
            }
            other => Err(error_at(
                token,
                format!("expected a key, found {}", describe(other)),
            )),
        }
    }

    /// A value that is not an object or array, starting with `token`; strings that follow on
    /// the same line are concatenated, keeping the whitespace between them.
    fn scalar(&mut self, token: Token) -> Result<Value, ParseError> {
        let mut value = match token.tok {
            Tok::Null => Value::Null,
            Tok::Bool(b) => Value::Bool(b),
            Tok::Int(i) => Value::Int(i),
            Tok::Float(f) => Value::Float(f),
            Tok::Str(ref s, StrStyle::Unquoted) if s == "include" => {
                return Err(error_at(
                    &token,
                    "'include' is reserved: quote it to use it as a string",
                ))
            }
            Tok::Str(s, _) => Value::String(s),
            ref other => {
                return Err(error_at(
                    &token,
                    format!("expected a value, found {}", describe(other)),
                ))
            }
        };
        let mut end = token.end;
        while let (Value::String(s), Tok::Str(..)) = (&mut value, &self.peek().tok) {
            let piece = self.advance()?;
            s.push_str(&self.src[end..piece.start]);
            if let Tok::Str(text, _) = piece.tok {
                s.push_str(&text);
            }
            end = piece.end;
        }
        Ok(value)
    }
}

/// Adds a field: two objects merge recursively, anything else replaces the earlier value in
/// its first position.
fn merge_field(object: &mut Object, key: String, value: Value) {
    if let Some(existing) = object.get_mut(&key) {
        match (existing, value) {
            (Value::Object(old), Value::Object(new)) => {
                for (k, v) in new {
                    merge_field(old, k, v);
                }
            }
            (slot, value) => *slot = value,
        }
    } else {
        object.insert(key, value);
    }
}

/// The kind of value a token starts, or `None` if it cannot start one.
fn value_kind(tok: &Tok) -> Option<&'static str> {
    match tok {
        Tok::LBrace => Some("object"),
        Tok::LBracket => Some("array"),
        Tok::Null => Some("null"),
        Tok::Bool(_) => Some("bool"),
        Tok::Int(_) => Some("integer"),
        Tok::Float(_) => Some("float"),
        Tok::Str(..) => Some("string"),
        _ => None,
    }
}

fn concat_error(at: &Token, left: &str, right: &str) -> ParseError {
    let message = if left == "object" || right == "object" {
        "object concatenation is not supported".to_owned()
    } else if left == "array" || right == "array" {
        "array concatenation is not supported".to_owned()
    } else {
        format!("concatenation of {left} and {right} is not supported (only strings concatenate)")
    };
    error_at(at, message)
}

fn error_at(token: &Token, message: impl Into<String>) -> ParseError {
    ParseError::new(token.line, token.column, message)
}

fn too_deep(token: &Token) -> ParseError {
    error_at(token, format!("nesting deeper than {MAX_DEPTH} levels"))
}

fn unclosed(eof: &Token, open: &Token) -> ParseError {
    let bracket = if open.tok == Tok::LBrace { '{' } else { '[' };
    error_at(
        eof,
        format!(
            "unexpected end of input: '{bracket}' at line {}, column {} is not closed",
            open.line, open.column
        ),
    )
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LBrace => "'{'".into(),
        Tok::RBrace => "'}'".into(),
        Tok::LBracket => "'['".into(),
        Tok::RBracket => "']'".into(),
        Tok::Comma => "','".into(),
        Tok::Colon => "':'".into(),
        Tok::Equals => "'='".into(),
        Tok::Newline => "a newline".into(),
        Tok::Eof => "the end of the input".into(),
        Tok::Null => "null".into(),
        Tok::Bool(b) => b.to_string(),
        Tok::Int(i) => format!("integer {i}"),
        Tok::Float(f) => format!("float {f}"),
        Tok::Str(s, _) => {
            let mut shown: String = s.chars().take(40).collect();
            if shown.len() < s.len() {
                shown.push_str("...");
            }
            format!("string {shown:?}")
        }
    }
}
