//! Logging for the functions: what lambda_http's default subscriber does, without its regex-based `EnvFilter`.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging controls), else `RUST_LOG`, else
//! `info`; both accept a level or `target=level` directives (`info,vimcar=debug`). Lines are JSON when
//! `AWS_LAMBDA_LOG_FORMAT=JSON`, as Lambda sets it. Regex directives are not supported: the `EnvFilter` that
//! parses them added about 300 KB of regex engine to every bootstrap.
//!
//! Nothing logs at TRACE, whatever the variables ask: at TRACE lambda_runtime logs each raw event (request bodies
//! with passwords, `Authorization` headers with tokens) and the AWS SDK logs request and response bodies. A TRACE
//! directive is lowered to DEBUG, and the function says so once when it starts.

use std::env;

use tracing_subscriber::filter::{LevelFilter, Targets};

/// The most any target logs.
const MAX_LEVEL: LevelFilter = LevelFilter::DEBUG;

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    let (variable, filter) = match env::var("AWS_LAMBDA_LOG_LEVEL") {
        Ok(directives) => ("AWS_LAMBDA_LOG_LEVEL", parse_filter(&directives)),
        Err(_) => match env::var("RUST_LOG") {
            Ok(directives) => ("RUST_LOG", parse_filter(&directives)),
            Err(_) => ("", Targets::new().with_default(LevelFilter::INFO)),
        },
    };
    let (filter, capped) = cap(filter);
    let json =
        env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));

    let subscriber = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_max_level(MAX_LEVEL);
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
    if capped {
        tracing::warn!(
            "{variable} asks for TRACE, which would log request bodies, tokens and AWS SDK bodies: logging at DEBUG \
             at most"
        );
    }
}

/// `filter` with every level above [`MAX_LEVEL`] lowered to it, and whether any was.
fn cap(filter: Targets) -> (Targets, bool) {
    let default = filter.default_level();
    let mut capped = default.is_some_and(|level| level > MAX_LEVEL);
    let mut lowered = Targets::new();
    for (target, level) in filter.iter() {
        capped |= level > MAX_LEVEL;
        lowered = lowered.with_target(target, level.min(MAX_LEVEL));
    }
    if let Some(level) = default {
        lowered = lowered.with_default(level.min(MAX_LEVEL));
    }
    (lowered, capped)
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
        let filter = parse_filter("vimcar=debug");
        assert!(filter.would_enable("vimcar", &Level::DEBUG));
        assert!(filter.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::DEBUG));
    }

    #[test]
    fn trace_is_lowered_to_debug_and_reported() {
        for directives in ["trace", "TRACE", "info,lambda_runtime=trace"] {
            let (filter, capped) = cap(parse_filter(directives));
            assert!(capped, "{directives}");
            assert!(
                !filter.would_enable("lambda_runtime", &Level::TRACE),
                "{directives}"
            );
            assert!(
                filter.would_enable("lambda_runtime", &Level::DEBUG),
                "{directives}"
            );
        }
    }

    #[test]
    fn trace_for_some_targets_is_lowered_and_the_others_keep_their_levels() {
        let (filter, capped) = cap(parse_filter("vimcar=trace,aws_smithy_runtime=trace"));
        assert!(capped);
        for target in ["vimcar::handlers", "aws_smithy_runtime"] {
            assert!(!filter.would_enable(target, &Level::TRACE), "{target}");
            assert!(filter.would_enable(target, &Level::DEBUG), "{target}");
        }
        assert!(filter.would_enable("hyper", &Level::INFO));
        assert!(!filter.would_enable("hyper", &Level::DEBUG));
    }

    #[test]
    fn levels_up_to_debug_are_kept_as_asked() {
        for directives in ["debug", "warn,vimcar=debug", "FATAL", "info"] {
            let (filter, capped) = cap(parse_filter(directives));
            assert!(!capped, "{directives}");
            assert_eq!(
                filter.to_string(),
                parse_filter(directives).to_string(),
                "{directives}"
            );
        }
    }

    #[test]
    fn an_unreadable_level_falls_back_to_info() {
        let filter = parse_filter("loud=");
        assert!(filter.would_enable("vimcar", &Level::INFO));
        assert!(!filter.would_enable("vimcar", &Level::DEBUG));
    }
}
