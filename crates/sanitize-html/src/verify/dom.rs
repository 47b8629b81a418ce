//! A minimal DOM for the second line: what html5ever's tree builder needs, and no more.
//!
//! Nodes live in one arena and link by index (no reference counting, no child vectors),
//! and a handle carries its element's name, so the tree builder's many name look-ups
//! never touch the arena. Comments and processing instructions are kept only as far as
//! the tree's shape needs them, the doctype not at all.

use std::borrow::Cow;
use std::cell::RefCell;

use html5ever::interface::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::tendril::StrTendril;
use html5ever::{Attribute, ExpandedName, QualName, local_name, ns};

/// A node: an index into [`Dom::nodes`], with the element's name (empty for other nodes).
#[derive(Clone, Debug)]
pub(crate) struct Handle {
    id: usize,
    name: QualName,
}

/// What a node is.
enum Data {
    /// The document, or the contents of a `<template>`.
    Fragment,
    /// An element with its attributes and, for a `<template>`, its contents.
    Element {
        name: QualName,
        attrs: Vec<Attribute>,
        template: Option<usize>,
        /// A MathML `<annotation-xml>` whose content is HTML.
        integration_point: bool,
    },
    Text(StrTendril),
    /// A comment or processing instruction.
    Other,
}

/// A node and its links.
struct Node {
    data: Data,
    parent: Option<usize>,
    first_child: Option<usize>,
    last_child: Option<usize>,
    prev: Option<usize>,
    next: Option<usize>,
}

impl Node {
    fn new(data: Data) -> Self {
        Node { data, parent: None, first_child: None, last_child: None, prev: None, next: None }
    }
}

/// The document being built; [`Dom::DOCUMENT`] is its root.
pub(crate) struct Dom {
    nodes: RefCell<Vec<Node>>,
}

impl Default for Dom {
    fn default() -> Self {
        Dom { nodes: RefCell::new(vec![Node::new(Data::Fragment)]) }
    }
}

/// The name of nodes that are not elements.
fn no_name() -> QualName {
    QualName::new(None, ns!(), local_name!(""))
}

impl Dom {
    /// The document node.
    const DOCUMENT: usize = 0;

    fn push(&self, data: Data) -> usize {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(Node::new(data));
        nodes.len() - 1
    }

    /// The node `text` goes into when it follows `prev`: `prev` itself if it is text
    /// (adjacent text merges), else a new text node.
    fn text_node(&self, prev: Option<usize>, text: StrTendril) -> Option<usize> {
        if let Some(prev) = prev
            && let Data::Text(existing) = &mut self.nodes.borrow_mut()[prev].data
        {
            existing.push_tendril(&text);
            return None;
        }
        Some(self.push(Data::Text(text)))
    }

    /// Inserts the parentless `child` into `parent`, before `before` (at the end if `None`).
    fn link(&self, parent: usize, child: usize, before: Option<usize>) {
        let mut nodes = self.nodes.borrow_mut();
        let prev = match before {
            Some(next) => nodes[next].prev.replace(child),
            None => nodes[parent].last_child.replace(child),
        };
        match prev {
            Some(prev) => nodes[prev].next = Some(child),
            None => nodes[parent].first_child = Some(child),
        }
        if before.is_none() {
            nodes[parent].last_child = Some(child);
        }
        let node = &mut nodes[child];
        (node.parent, node.prev, node.next) = (Some(parent), prev, before);
    }

    fn unlink(&self, child: usize) {
        let mut nodes = self.nodes.borrow_mut();
        let Some(parent) = nodes[child].parent.take() else {
            return;
        };
        let (prev, next) = (nodes[child].prev.take(), nodes[child].next.take());
        match prev {
            Some(prev) => nodes[prev].next = next,
            None => nodes[parent].first_child = next,
        }
        match next {
            Some(next) => nodes[next].prev = prev,
            None => nodes[parent].last_child = prev,
        }
    }
}

/// The parsed document.
pub(crate) struct Tree(Vec<Node>);

/// An element of a [`Tree`].
pub(crate) struct Element<'a> {
    /// Its index in the tree, for [`Tree::text`].
    pub(crate) id: usize,
    pub(crate) name: &'a QualName,
    pub(crate) attrs: &'a [Attribute],
}

impl Tree {
    /// Every element the tree builder created, in creation order (document order but for
    /// elements that a misnested tag made it create again), `<template>` contents
    /// included. That is the document's elements and, at most, a few the tree builder
    /// detached again (the `<body>` a `<frameset>` replaces): no walk of the tree can
    /// miss a subtree.
    pub(crate) fn elements(&self) -> impl Iterator<Item = Element<'_>> {
        self.0.iter().enumerate().filter_map(|(id, node)| match &node.data {
            Data::Element { name, attrs, .. } => Some(Element { id, name, attrs }),
            _ => None,
        })
    }

    /// The child text content of node `id` (what a `<script>` runs, what a `<style>`
    /// applies).
    pub(crate) fn text(&self, id: usize) -> String {
        let mut text = String::new();
        for child in std::iter::successors(self.0[id].first_child, |child| self.0[*child].next) {
            if let Data::Text(contents) = &self.0[child].data {
                text.push_str(contents);
            }
        }
        text
    }
}

impl TreeSink for Dom {
    type Handle = Handle;
    type Output = Tree;
    type ElemName<'a> = ExpandedName<'a>;

    fn finish(self) -> Tree {
        Tree(self.nodes.into_inner())
    }

    fn parse_error(&self, _: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        Handle { id: Dom::DOCUMENT, name: no_name() }
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
        target.name.expanded()
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        let template = flags.template.then(|| self.push(Data::Fragment));
        let integration_point = flags.mathml_annotation_xml_integration_point;
        let id = self.push(Data::Element { name: name.clone(), attrs, template, integration_point });
        Handle { id, name }
    }

    fn create_comment(&self, _: StrTendril) -> Handle {
        Handle { id: self.push(Data::Other), name: no_name() }
    }

    fn create_pi(&self, _: StrTendril, _: StrTendril) -> Handle {
        Handle { id: self.push(Data::Other), name: no_name() }
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        let child = match child {
            NodeOrText::AppendNode(node) => Some(node.id),
            NodeOrText::AppendText(text) => {
                let last = self.nodes.borrow()[parent.id].last_child;
                self.text_node(last, text)
            }
        };
        if let Some(child) = child {
            self.link(parent.id, child, None);
        }
    }

    fn append_based_on_parent_node(&self, element: &Handle, prev_element: &Handle, child: NodeOrText<Handle>) {
        if self.nodes.borrow()[element.id].parent.is_some() {
            self.append_before_sibling(element, child);
        } else {
            self.append(prev_element, child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &Handle) -> Handle {
        match &self.nodes.borrow()[target.id].data {
            Data::Element { template: Some(contents), .. } => Handle { id: *contents, name: no_name() },
            _ => unreachable!("the tree builder asks only templates for their contents"),
        }
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        x.id == y.id
    }

    fn set_quirks_mode(&self, _: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        let (parent, prev) = {
            let nodes = self.nodes.borrow();
            (nodes[sibling.id].parent, nodes[sibling.id].prev)
        };
        let Some(parent) = parent else {
            return;
        };
        let child = match new_node {
            NodeOrText::AppendNode(node) => {
                self.unlink(node.id);
                Some(node.id)
            }
            NodeOrText::AppendText(text) => self.text_node(prev, text),
        };
        if let Some(child) = child {
            self.link(parent, child, Some(sibling.id));
        }
    }

    fn add_attrs_if_missing(&self, target: &Handle, new: Vec<Attribute>) {
        if let Data::Element { attrs, .. } = &mut self.nodes.borrow_mut()[target.id].data {
            for attr in new {
                if !attrs.iter().any(|a| a.name == attr.name) {
                    attrs.push(attr);
                }
            }
        }
    }

    fn remove_from_parent(&self, target: &Handle) {
        self.unlink(target.id);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        let first = self.nodes.borrow()[node.id].first_child;
        let children: Vec<usize> = std::iter::successors(first, |child| self.nodes.borrow()[*child].next).collect();
        for child in children {
            self.unlink(child);
            self.link(new_parent.id, child, None);
        }
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &Handle) -> bool {
        matches!(self.nodes.borrow()[handle.id].data, Data::Element { integration_point: true, .. })
    }
}
