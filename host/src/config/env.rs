//! The `AIRLOCK_*` environment layer: nested keys joined with `__`, plugin names spelled
//! with `_` for `-` (a shell cannot export a name with `-`), and a variable that can
//! name no setting refused rather than ignored.

use figment::providers::Env;
use figment::value::{Uncased, UncasedStr};

use super::KEYS;

/// Tables keyed by plugin name; plugin names have `-` but never `_`.
const PLUGIN_TABLES: &[&str] = &["providers", "sanitizers"];

/// The environment layer: `AIRLOCK_PROVIDERS__OPENAI_COMPATIBLE__BASE_URL` sets
/// `providers.openai-compatible.base_url`. Variables whose first part is no setting
/// (`AIRLOCK_LOG`, `AIRLOCK_CONFIG`, ...) are left out; see [`check_names`].
pub(super) fn layer() -> Env {
    Env::prefixed("AIRLOCK_")
        .split("__")
        .filter(|key| {
            let top = key.as_str().split('.').next().unwrap_or_default();
            KEYS.iter().any(|known| known.eq_ignore_ascii_case(top))
        })
        .map(plugin_name_dashes)
}

/// `providers.openai_compatible.base_url` → `providers.openai-compatible.base_url`.
fn plugin_name_dashes(key: &UncasedStr) -> Uncased<'_> {
    let mut parts = key.as_str().splitn(3, '.');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(table), Some(name), rest) if PLUGIN_TABLES.iter().any(|t| t.eq_ignore_ascii_case(table)) => {
            let mut mapped = format!("{table}.{}", name.replace('_', "-"));
            if let Some(rest) = rest {
                mapped.push('.');
                mapped.push_str(rest);
            }
            Uncased::from_owned(mapped)
        }
        _ => Uncased::from_borrowed(key.as_str()),
    }
}

/// Refuses a nested variable (`AIRLOCK_A__B`) whose `A` is no setting, which would
/// otherwise be ignored without a word, naming the closest setting. Only names are
/// read, never values.
///
/// # Errors
///
/// For the first such variable.
pub(super) fn check_names(names: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    for name in names {
        let Some((top, _)) = name.strip_prefix("AIRLOCK_").and_then(|rest| rest.split_once("__")) else {
            continue;
        };
        if KEYS.iter().any(|key| key.eq_ignore_ascii_case(top)) {
            continue;
        }
        let top = top.to_ascii_lowercase();
        let closest = KEYS.iter().min_by_key(|key| strsim::levenshtein(key, &top)).unwrap_or(&"providers");
        anyhow::bail!(
            "the environment variable `{name}` names no setting: `{top}` is not one; did you mean `AIRLOCK_{}__…`?",
            closest.to_ascii_uppercase()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_take_dashes_and_other_keys_stay() {
        let map = |key: &str| plugin_name_dashes(key.into()).as_str().to_owned();
        assert_eq!(map("PROVIDERS.OPENAI_COMPATIBLE.BASE_URL"), "PROVIDERS.OPENAI-COMPATIBLE.BASE_URL");
        assert_eq!(map("sanitizers.prompt_guard.options.mode"), "sanitizers.prompt-guard.options.mode");
        assert_eq!(map("providers.openai"), "providers.openai");
        assert_eq!(map("gateway.admin_listen"), "gateway.admin_listen");
        assert_eq!(map("max_body_kib"), "max_body_kib");
    }

    #[test]
    fn a_nested_variable_that_names_no_setting_is_refused() {
        let names = |names: &[&str]| check_names(names.iter().map(|n| (*n).to_owned()));
        names(&["AIRLOCK_LOG", "AIRLOCK_CONFIG", "AIRLOCK_PROVIDERS__OPENAI__API_KEY", "PATH", "AIRLOCK_GATEWAY__X"])
            .unwrap();
        let error = names(&["AIRLOCK_PROVIDRS__OPENAI__API_KEY"]).unwrap_err().to_string();
        assert!(
            error.contains("`AIRLOCK_PROVIDRS__OPENAI__API_KEY`") && error.contains("`AIRLOCK_PROVIDERS__…`"),
            "{error}"
        );
    }
}
