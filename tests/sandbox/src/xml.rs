//! (The sandbox's own copy: the client in `shared/malls` has its own, so the two are never
//! tested against shared wire code.)
//!
//! Shared by the sandbox's XML malls (Yahoo, au PAY).
//!
//! A small element tree over quick-xml's pull parser, and an escaping writer.
//!
//! Why a tree and not serde: Yahoo's answers repeat an element once per item (`<OrderInfo>`,
//! `<Item>`), and a serde mapping (like every XML→map converter the public clients use) turns
//! a single hit into an object instead of a list. Walking children by name has no such quirk:
//! one `<OrderInfo>` is a list of one. It also keeps unknown fields, so the raw payload can be
//! re-normalised later, and a malformed value becomes a hold rather than a parse failure.

use std::fmt::Write as _;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Deeper documents are refused: Yahoo's are four levels deep, and a bound keeps a hostile
/// answer from costing memory.
const MAX_DEPTH: usize = 32;

/// One XML element: its local name (namespace prefix dropped), attributes, child elements
/// and its own text (all text nodes concatenated, unescaped, untrimmed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// An element with text only.
    pub fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            ..Self::default()
        }
    }

    pub fn with(mut self, child: Element) -> Self {
        self.children.push(child);
        self
    }

    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`, in document order (none, one or many).
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child called `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    /// Serialises the element (no XML declaration).
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (key, value) in &self.attributes {
            let _ = write!(out, " {key}=\"{}\"", escape(value));
        }
        out.push('>');
        out.push_str(&escape(&self.text));
        for child in &self.children {
            child.write(out);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Why a body is not XML we can read. Gives the position, never the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not well-formed XML at byte {position}: {problem}")]
pub struct XmlError {
    pub position: u64,
    pub problem: String,
}

/// Parses a whole document and returns its root element.
pub fn parse(body: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let fail = |reader: &Reader<&[u8]>, problem: String| XmlError {
        position: reader.buffer_position(),
        problem,
    };
    loop {
        let event = reader
            .read_event()
            .map_err(|e| fail(&reader, error_kind(&e)))?;
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(fail(&reader, "more than one root element".into()));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(fail(&reader, format!("nested deeper than {MAX_DEPTH}")));
                }
                stack.push(element_of(&reader, &start)?);
            }
            Event::Empty(start) => {
                let element = element_of(&reader, &start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(_) => {
                let Some(element) = stack.pop() else {
                    return Err(fail(&reader, "closing tag without an opening one".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(text) => {
                let text = text.unescape().map_err(|e| fail(&reader, error_kind(&e)))?;
                match stack.last_mut() {
                    Some(element) => element.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(fail(&reader, "text outside the root element".into())),
                }
            }
            Event::CData(data) => {
                let text = String::from_utf8_lossy(&data.into_inner()).into_owned();
                match stack.last_mut() {
                    Some(element) => element.text.push_str(&text),
                    None => return Err(fail(&reader, "CDATA outside the root element".into())),
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(fail(&reader, "document ends inside an element".into()));
    }
    root.ok_or_else(|| fail(&reader, "no root element".into()))
}

fn element_of(
    reader: &Reader<&[u8]>,
    start: &quick_xml::events::BytesStart<'_>,
) -> Result<Element, XmlError> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut element = Element::new(name);
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| XmlError {
            position: reader.buffer_position(),
            problem: format!("bad attribute ({e})"),
        })?;
        let key = String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned();
        if attribute.key.as_ref().starts_with(b"xmlns") {
            continue;
        }
        let value = attribute
            .unescape_value()
            .map_err(|e| XmlError {
                position: reader.buffer_position(),
                problem: error_kind(&e),
            })?
            .into_owned();
        element.attributes.push((key, value));
    }
    Ok(element)
}

/// The kind of a parse error without quoting the document (which may hold buyer data).
fn error_kind(error: &quick_xml::Error) -> String {
    match error {
        quick_xml::Error::Syntax(e) => format!("syntax error ({e})"),
        quick_xml::Error::IllFormed(e) => format!("ill-formed ({e})"),
        quick_xml::Error::Escape(_) => "unknown or broken entity reference".into(),
        quick_xml::Error::Encoding(_) => "text is not UTF-8".into(),
        _ => "unreadable".into(),
    }
}

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_child_is_a_list_of_one() {
        let root = parse("<Result><Search><TotalCount>1</TotalCount><OrderInfo><OrderId>a-1</OrderId></OrderInfo></Search></Result>").unwrap();
        let search = root.child("Search").unwrap();
        assert_eq!(search.children_named("OrderInfo").count(), 1);
        assert_eq!(search.child_text("TotalCount"), Some("1"));
    }

    #[test]
    fn namespaces_entities_cdata_and_declarations() {
        let root = parse(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error xmlns=\"urn:yahoo:api\"><Message>a &amp; b</Message><Code><![CDATA[x<y]]></Code></Error>",
        )
        .unwrap();
        assert_eq!(root.name, "Error");
        assert!(root.attributes.is_empty());
        assert_eq!(root.child_text("Message"), Some("a & b"));
        assert_eq!(root.child_text("Code"), Some("x<y"));
    }

    #[test]
    fn round_trips_through_the_writer() {
        let element = Element::new("Req")
            .with(Element::leaf("Memo", "<&>\"😀"))
            .with(Element::new("Empty"));
        assert_eq!(parse(&element.to_xml()).unwrap(), element);
    }

    #[test]
    fn broken_documents_are_errors_not_panics() {
        for body in [
            "",
            "<a>",
            "</a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<a>&bogus;</a>",
            "<?xml version=\\\"1.0\\\"?>\\n<Error/>",
        ] {
            assert!(parse(body).is_err(), "{body}");
        }
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(parse(&deep).is_err());
    }
}
