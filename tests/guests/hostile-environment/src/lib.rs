//! Looks for secrets in what std offers without a filesystem: environment variables,
//! arguments and stdin. It is allowed to load (these interfaces
//! are served) and must find nothing. It reports what it saw as its output.
use std::io::Read;

guest_support::hostile!("hostile-environment", |_| {
    let variables: Vec<String> = std::env::vars().map(|(name, value)| format!("{name}={value}")).collect();
    let arguments: Vec<String> = std::env::args().collect();
    let mut stdin = String::new();
    let stdin_result =
        std::io::stdin().read_to_string(&mut stdin).map(|n| n.to_string()).unwrap_or_else(|e| e.to_string());
    Ok(format!(
        "variables={}\narguments={}\nstdin={stdin:?} ({stdin_result})\n",
        variables.join(","),
        arguments.join(",")
    ))
});
