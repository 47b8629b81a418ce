//! Compiles the phrase grammar (`grammar.rs`) into tables: the build script runs it to
//! write the static tables of `phrases.rs`, and the tests run it to check them.

use std::collections::BTreeSet;

use super::grammar::{CLASSES, PHRASES, hash};

/// A set of vocabulary ids: a bit per id, and which ids must be in capitals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Set {
    pub(crate) any_case: Vec<u64>,
    pub(crate) capitals: Vec<u64>,
}

impl Set {
    fn insert(&mut self, id: u16, capitals: bool) {
        let (index, bit) = (usize::from(id) / 64, 1u64 << (id % 64));
        let bits = if capitals { &mut self.capitals } else { &mut self.any_case };
        if bits.len() <= index {
            bits.resize(index + 1, 0);
        }
        bits[index] |= bit;
    }

    /// The ids in the set, ascending.
    pub(crate) fn ids(&self) -> Vec<u16> {
        let mut ids = Vec::new();
        for bits in [&self.any_case, &self.capitals] {
            for (index, &word) in bits.iter().enumerate() {
                ids.extend((0..64).filter(|bit| word & (1 << bit) != 0).map(|bit| (index * 64 + bit) as u16));
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// One slot of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompiledSlot {
    One(Set),
    Optional(Set),
    Filler(Set),
    Colon,
}

/// A slot as parsed: its kind and its words (`(word, written in capitals)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    One,
    Optional,
    Filler,
    Colon,
}

/// The compiled grammar.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    /// The vocabulary, lowercase and sorted; a word's id is its index.
    pub(crate) words: Vec<String>,
    /// The slots of each phrase of [`PHRASES`], in order.
    pub(crate) phrases: Vec<Vec<CompiledSlot>>,
    /// For each word id, the phrases whose first slot holds it, in order.
    pub(crate) by_first: Vec<Vec<u16>>,
    /// Open addressing by [`hash`] with linear probing: word ids, `u16::MAX` for empty;
    /// its length is a power of two, at least four times the vocabulary.
    pub(crate) table: Vec<u16>,
}

/// Parses one pattern: its slots, each with its kind and words.
pub(crate) fn parse(pattern: &'static str) -> Vec<(Kind, Vec<(&'static str, bool)>)> {
    let mut slots = Vec::new();
    for part in pattern.split_whitespace() {
        if part == ":" {
            slots.push((Kind::Colon, Vec::new()));
            continue;
        }
        let (inner, kind) = if let Some(inner) = part.strip_suffix(")?") {
            (inner.strip_prefix('(').expect("`(` opens an optional slot"), Kind::Optional)
        } else if let Some(inner) = part.strip_suffix(")*") {
            (inner.strip_prefix('(').expect("`(` opens a filler slot"), Kind::Filler)
        } else {
            (part, Kind::One)
        };
        let mut words = Vec::new();
        for alternative in inner.split('|') {
            let expanded = match alternative.strip_prefix('@') {
                Some(class) => {
                    CLASSES.iter().find(|(name, _)| *name == class).unwrap_or_else(|| panic!("no class @{class}")).1
                }
                None => alternative,
            };
            for word in expanded.split('|') {
                assert!(
                    !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric()),
                    "bad word `{word}` in `{pattern}`"
                );
                words.push((word, word.bytes().any(|b| b.is_ascii_uppercase())));
            }
        }
        slots.push((kind, words));
    }
    assert!(matches!(slots.first(), Some((Kind::One, _))), "`{pattern}` must start with a required word");
    slots
}

/// Compiles [`PHRASES`].
pub(crate) fn compile() -> Compiled {
    let parsed: Vec<_> = PHRASES.iter().map(|def| parse(def.pattern)).collect();
    let vocabulary: BTreeSet<String> =
        parsed.iter().flatten().flat_map(|(_, words)| words).map(|(word, _)| word.to_ascii_lowercase()).collect();
    let words: Vec<String> = vocabulary.into_iter().collect();
    assert!(words.len() < usize::from(u16::MAX), "the vocabulary fits word ids");
    let id =
        |word: &str| words.binary_search(&word.to_ascii_lowercase()).expect("every word is in the vocabulary") as u16;
    let phrases: Vec<Vec<CompiledSlot>> = parsed
        .iter()
        .map(|slots| {
            slots
                .iter()
                .map(|(kind, slot_words)| {
                    let mut set = Set::default();
                    for &(word, capitals) in slot_words {
                        set.insert(id(word), capitals);
                    }
                    match kind {
                        Kind::One => CompiledSlot::One(set),
                        Kind::Optional => CompiledSlot::Optional(set),
                        Kind::Filler => CompiledSlot::Filler(set),
                        Kind::Colon => CompiledSlot::Colon,
                    }
                })
                .collect()
        })
        .collect();
    let mut by_first = vec![Vec::new(); words.len()];
    for (index, slots) in phrases.iter().enumerate() {
        let Some(CompiledSlot::One(first)) = slots.first() else { unreachable!("checked by parse") };
        for id in first.ids() {
            by_first[usize::from(id)].push(index as u16);
        }
    }
    let mut table = vec![u16::MAX; (words.len() * 4).next_power_of_two()];
    let mask = table.len() - 1;
    for (id, word) in words.iter().enumerate() {
        let mut slot = hash(word.as_bytes()) as usize & mask;
        while table[slot] != u16::MAX {
            slot = (slot + 1) & mask;
        }
        table[slot] = id as u16;
    }
    Compiled { words, phrases, by_first, table }
}
