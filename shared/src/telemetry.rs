//! Logging for the functions: what lambda_http's default subscriber does, without its regex-based `EnvFilter`.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging controls), else `RUST_LOG`, else
//! `info`; both accept a level or `target=level` directives (`info,vimcar=debug`). Lines are JSON when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, as Lambda sets it. Regex directives are not supported: the `EnvFilter` that
//! parses them added about 300 KB of regex engine to every bootstrap.

use std::env;

use tracing_subscriber::filter::{LevelFilter, Targets};

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    let filter = env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| env::var("RUST_LOG"))
        .map(|directives| parse_filter(&directives))
        .unwrap_or_else(|_| Targets::new().with_default(LevelFilter::INFO));
    let json =
        env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));

    let subscriber = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(LevelFilter::TRACE);
    let result = if json {
        tracing::subscriber::set_global_default(tracing_subscriber::layer::SubscriberExt::with(
            subscriber.json().finish(),
            filter,
        ))
    } else {
        tracing::subscriber::set_global_default(tracing_subscriber::layer::SubscriberExt::with(
            subscriber.finish(),
            filter,
        ))
    };
    if result.is_err() {
        tracing::warn!("a global tracing subscriber was already installed");
    }
}

/// Parses a level or `target=level` directives. Lambda's `FATAL` means errors only; anything unreadable falls back
/// to `info` rather than silencing the function.
fn parse_filter(directives: &str) -> Targets {
    let directives = directives.trim();
    if directives.eq_ignore_ascii_case("fatal") {
        return Targets::new().with_default(LevelFilter::ERROR);
    }
    match directives.parse::<Targets>() {
        // Directives for some targets only leave the rest at `info`, as lambda_http's subscriber does.
        Ok(targets) if targets.default_level().is_none() => targets.with_default(LevelFilter::INFO),
        Ok(targets) => targets,
        Err(_) => Targets::new().with_default(LevelFilter::INFO),
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    use super::*;

    #[test]
    fn a_lambda_log_level_in_capitals_sets_the_default_level() {
        let filter = parse_filter("DEBUG");
        assert!(filter.would_enable("vimcar", &Level::DEBUG));
        assert!(!filter.would_enable("vimcar", &Level::TRACE));
    }

    #[test]
    fn target_directives_set_levels_per_crate() {
        let filter = parse_filter("warn,vimcar=debug");
        assert!(filter.would_enable("vimcar::handlers", &Level::DEBUG));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(filter.would_enable("aws_smithy_runtime", &Level::WARN));
    }

    #[test]
    fn fatal_means_errors_only() {
        let filter = parse_filter("FATAL");
        assert!(filter.would_enable("vimcar", &Level::ERROR));
        assert!(!filter.would_enable("vimcar", &Level::WARN));
    }

    #[test]
    fn directives_for_one_target_leave_the_others_at_info() {
        let filter = parse_filter("vimcar=trace");
        assert!(filter.would_enable("vimcar", &Level::TRACE));
        assert!(filter.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::DEBUG));
    }

    #[test]
    fn an_unreadable_level_falls_back_to_info() {
        let filter = parse_filter("loud=");
        assert!(filter.would_enable("vimcar", &Level::INFO));
        assert!(!filter.would_enable("vimcar", &Level::DEBUG));
    }
}
