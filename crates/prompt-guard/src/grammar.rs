//! The phrase grammar as data: the word classes and the phrase rules, in the syntax
//! described in `phrases.rs`. The build script compiles it into static tables
//! (`compile.rs`), so a guard costs nothing to build.

use super::Rule;

/// The hash of a vocabulary word, for the lookup table of `phrases.rs` (built by the
/// build script with this same function): FxHash (as in rustc), fast for short keys.
/// The table only ever holds the fixed vocabulary, so prompts cannot make probes long.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut hash = 0u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        hash = (hash.rotate_left(5) ^ word).wrapping_mul(K);
    }
    for &byte in chunks.remainder() {
        hash = (hash.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
    }
    hash
}

/// Word classes shared by the patterns.
// Read by the build script and the tests (`compile.rs`), not at run time.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const CLASSES: &[(&str, &str)] = &[
    ("ignore", "ignore|disregard|forget|bypass|overlook|dismiss|discard|abandon|ditch|skip|neglect|erase"),
    ("override", "override|overrides|overrule|overrules|supersede|supersedes|replace|replaces"),
    (
        "orders",
        "instructions|instruction|prompt|prompts|directives|directive|guidelines|guidance|programming|training|persona|commands",
    ),
    (
        "det",
        "all|any|every|each|the|your|ur|my|our|of|these|those|that|this|its|their|entire|whole|completely|just|now|please|and|everything|anything|previously|above|earlier|single|one|such",
    ),
    (
        "earlier",
        "previous|previously|prior|above|earlier|preceding|foregoing|former|initial|original|old|existing|past|system|developer|given|last|aforementioned|default|current|hidden|underlying|base|your|starting|first|openai|anthropic|safety",
    ),
    (
        "instructions",
        "instructions|instruction|prompt|prompts|rules|directions|directives|directive|guidelines|guidance|commands|orders|constraints|restrictions|programming|training|policies|policy|guardrails|persona",
    ),
    ("show", "reveal|dump|leak|recite|expose|disclose|divulge|exfiltrate"),
    (
        "give",
        "reveal|print|show|output|display|repeat|dump|leak|recite|echo|expose|disclose|spell|paste|tell|share|quote|state|list|divulge|write|give|provide|send|copy|type|return|translate|summarize|summarise|read|explain|describe",
    ),
    (
        "leakdet",
        "me|us|out|back|verbatim|exactly|word|for|the|your|all|of|above|full|entire|complete|exact|raw|whole|contents|content|text|everything|in|code|block|please|now|its|this|to|at",
    ),
    ("secret", "initial|hidden|secret|developer|internal|underlying|confidential|pre|preceding|meta"),
    (
        "yours",
        "initial|hidden|secret|developer|internal|underlying|confidential|pre|original|first|full|complete|exact|real|actual|starting|base|entire|whole|current|core|system",
    ),
    (
        "norules",
        "restrictions|restriction|limits|limitations|rules|filters|filter|guidelines|boundaries|censorship|ethics|morals|morality|constraints|policies|safeguards|guardrails|filtering|moderation|principles|conscience",
    ),
    (
        "modes",
        "developer|dev|god|dan|jailbreak|jailbroken|evil|unfiltered|uncensored|unrestricted|unlocked|unchained|opposite|chaos|unsafe|amoral",
    ),
    ("model", "you|yourself|chatgpt|gpt|assistant|ai|model|claude|gemini|llm|bot|chatbot|llama|mistral|copilot|bard"),
    (
        "bypass",
        "bypass|circumvent|evade|disable|ignore|override|deactivate|remove|break|escape|avoid|drop|lift|suspend|disregard|turn|switch|get|skip|defeat|dodge|sidestep|hack|trick|break",
    ),
    ("particle", "off|around|past|out|of|from|free|yourself|rid|through|away"),
    (
        "org",
        "openai|anthropic|google|meta|microsoft|s|built|in|usual|default|standard|normal|typical|all|any|your|the|its",
    ),
];

/// One phrase rule.
pub(crate) struct PhraseDef {
    pub(crate) rule: Rule,
    // Read by the build script and the tests (`compile.rs`), not at run time.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) pattern: &'static str,
    /// The finding's message.
    pub(crate) what: &'static str,
}

const fn phrase(rule: Rule, pattern: &'static str, what: &'static str) -> PhraseDef {
    PhraseDef { rule, pattern, what }
}

use Rule::{InstructionOverride as Override, Jailbreak, PromptLeak as Leak};

const OVERRIDE: &str = "an instruction to ignore or replace the earlier instructions";
const FORGET: &str = "an instruction to forget what the model was told";
const NEW_ROLE: &str = "an attempt to give the model a new identity or task";
const NEW_INSTRUCTIONS: &str = "a block of supposedly new or overriding instructions";
const AUTHORITY: &str = "a claim to be the model's developer or operator";
const LEAK: &str = "a request to reveal the system prompt or hidden instructions";
const LEAK_ABOVE: &str = "a request to repeat the text that came before the prompt";
const DAN: &str = "the DAN (do anything now) jailbreak persona";
const MODE: &str = "a request to switch the model into an unrestricted mode";
const JAILBREAK: &str = "talk of jailbreaking the model";
const NO_LIMITS: &str = "a request to act without restrictions or safety rules";
const BYPASS: &str = "a request to bypass safety filters or content policy";

/// The phrase rules.
#[rustfmt::skip]
pub(crate) const PHRASES: &[PhraseDef] = &[
    // instruction-override
    phrase(Override, "@ignore (@det)* @earlier (@earlier)? @instructions", OVERRIDE),
    phrase(Override, "@override (@det)* @earlier (@earlier)? @orders", OVERRIDE),
    phrase(Override, "@ignore (all|any|the|your|of|my|these|those)* @instructions (you|that|i|we|were|was|have|had|been|ve|so)* above|before|given|received|far|until|previously|provided|earlier|here", OVERRIDE),
    phrase(Override, "@ignore (@det)* above|preceding|foregoing and|instead|text|lines|content", OVERRIDE),
    phrase(Override, "@ignore everything|all above|before|previously|prior|earlier", OVERRIDE),
    phrase(Override, "take|takes|taking precedence|priority over (@det)* @earlier", OVERRIDE),
    phrase(Override, "do|you|should|must not|no|never follow|obey|respect|honor|honour|heed (@det)* @earlier (@earlier)? @instructions", OVERRIDE),
    phrase(Override, "no longer follow|obey|respect|honor|honour|heed (@det)* @earlier (@earlier)? @instructions", OVERRIDE),
    phrase(Override, "don|dont|never|stop|cease|quit (t)? following|follow|obeying|obey|respecting|heeding (@det)* @earlier (@earlier)? @instructions", OVERRIDE),
    phrase(Override, "forget everything", FORGET),
    phrase(Override, "@ignore (@det)* what|everything|anything|all (that)? you (were|was|have|had|ve|been|re|are|already|previously|just)* told|instructed|taught|programmed|trained|learned|know", FORGET),
    phrase(Override, "you are|re now a|an|the|my|no|free|unrestricted|unfiltered|uncensored|DAN|jailbroken|acting|called|named|evil|root|god|liberated|released|unbound|unleashed|reprogrammed", NEW_ROLE),
    phrase(Override, "your new|true|actual task|role|purpose|goal|job|objective|mission|instructions|identity is|are|will", NEW_ROLE),
    phrase(Override, "new|real|actual|true|secret|hidden|override|overriding|revised|updated|priority|admin|emergency (system)? instructions|instruction|directive|directives :", NEW_INSTRUCTIONS),
    phrase(Override, "new|real|actual|true|secret|hidden|override|overriding|revised|updated|priority|admin|emergency system prompt|message|rules :", NEW_INSTRUCTIONS),
    phrase(Override, "system override|overrides", NEW_INSTRUCTIONS),
    phrase(Override, "system instruction|instructions|command|directive|prompt :", NEW_INSTRUCTIONS),
    phrase(Override, "i am|m your|ur developer|developers|creator|creators|admin|administrator|owner|operator|programmer|maker|master", AUTHORITY),
    // prompt-leak
    phrase(Leak, "@show (@leakdet)* (@secret)? system prompt|prompts|message|instructions|instruction|rules|configuration", LEAK),
    phrase(Leak, "@give me|us (@leakdet)* (@secret)? system prompt|prompts|message|instructions|instruction|rules|configuration", LEAK),
    phrase(Leak, "@give (@leakdet)* your|ur (@yours)? prompt|prompts|instructions|instruction|rules|directives|guidelines|preprompt|configuration|programming", LEAK),
    phrase(Leak, "@give (@leakdet)* @secret (@yours)? prompt|prompts|instructions|preprompt|directives", LEAK),
    phrase(Leak, "what|whats (is|are|was|were|s)? your @yours prompt|prompts|instructions|rules|guidelines|directives|preprompt", LEAK),
    phrase(Leak, "what|whats (is|are|was|were|s)? your instructions|directives|preprompt", LEAK),
    phrase(Leak, "what|whats (is|are|was|were|s)? the @secret|system prompt|prompts|instructions|preprompt", LEAK),
    phrase(Leak, "repeat|recite|echo (@leakdet)* words|everything (that|which)? (is|are|were|was|written|appear|appears|appearing)? above|before|preceding|prior", LEAK_ABOVE),
    // jailbreak
    phrase(Jailbreak, "do anything now", DAN),
    phrase(Jailbreak, "you|as|be|become|called|named|hi|hello|hey|stay|play|roleplay|are|re|now|act|acting|like|am DAN", DAN),
    phrase(Jailbreak, "DAN mode|prompt|persona|jailbreak|character|which|can|has|does|will|must|stands|answers|responds", DAN),
    phrase(Jailbreak, "@modes mode enabled|activated|engaged|unlocked|active", MODE),
    phrase(Jailbreak, "@model (are|re|is|will|must|should|now|shall|to|be|can|in|into|enter|entering|switch|switching|go|going|have|has|with|now|operate|operating|running|act|acting|respond|responding|answer|answering|stay|remain|simulate|emulate|pretend|enable|enabled|activate)* (@det)* @modes mode", MODE),
    phrase(Jailbreak, "simulate|simulating|emulate|emulating (@det)* @modes mode", MODE),
    phrase(Jailbreak, "you (are|re|have|been|now|ve|being|will|be|get|got)* jailbroken|jailbreaked|freed|liberated|unshackled|unchained|unleashed", JAILBREAK),
    phrase(Jailbreak, "jailbreak|jailbroken|jailbreaking mode|prompt|prompts|persona|yourself|version|ai|assistant|chatbot|gpt|chatgpt|llm|model|claude|gemini|bot|activated|enabled|successful", JAILBREAK),
    phrase(Jailbreak, "jailbreak|jailbreaking (@det)* @model", JAILBREAK),
    phrase(Jailbreak, "pretend|imagine|act|behave|roleplay|role|respond|answer|reply|suppose|assume|simulate|play|write (as|if|like|that|you|have|had|are|were|an|a|ai|model|assistant|with|of|re|though|being|to|be|character|who|which|has|is|entity|chatbot|version|yourself|persona|there|now|completely|totally|truly|fully|s)* no|without|zero|free|beyond|unbound|unbounded|unburdened|lacking|devoid|unlimited|ignoring|removed (of|by|from|any|all|the|your|ethical|moral|content|safety|usual|typical|normal|standard|programmed|built|in|openai|anthropic|s|kind|such|limits|or)* @norules", NO_LIMITS),
    phrase(Jailbreak, "you (are|re|have|has|now|will|shall|no|longer|be|being|not|never)* no|free|unbound|unrestricted|freed|released (of|from|by|any|all|the|your|longer|bound|restricted|limited|constrained|ethical|moral|content|safety|openai|anthropic|s)* @norules", NO_LIMITS),
    phrase(Jailbreak, "no longer bound|restricted|limited|constrained|required|obligated (by|to)? (@det)* (@org|content|safety|ethical|moral|usage)* @norules|policy|policies|guidelines", NO_LIMITS),
    phrase(Jailbreak, "@bypass (@particle)* (@det)* guardrails|safeguards|censorship|alignment|moderation", BYPASS),
    phrase(Jailbreak, "@bypass (@particle)* (@org)* safety|ethical|moral|ethics filters|filter|guidelines|protocols|rules|restrictions|policy|policies|constraints|guardrails", BYPASS),
    phrase(Jailbreak, "@bypass (@particle)* (@org)* content policy|policies|guidelines|rules|restrictions|moderation", BYPASS),
    phrase(Jailbreak, "@bypass (@particle)* (@det)* openai|anthropic|google|meta|microsoft (s)? policy|policies|rules|guidelines|restrictions|filters|usage|content", BYPASS),
];
