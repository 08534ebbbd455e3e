//! Sorting SDK failures into "try again later" and "broken".

use anyhow::anyhow;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;

use crate::storage::StoreError;

/// Error codes that mean DynamoDB is overloaded or briefly failing, not that the request is wrong.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Whether a conditional write failed its condition, which callers answer as a plain "no" rather than an error.
pub(super) fn condition_failed<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Maps an SDK failure to the repository's error. Timeouts, connection failures, throttling and 5xx answers are
/// [`StoreError::Unavailable`] (the client may retry); everything else is a fault.
pub(super) fn sdk_error<E>(error: SdkError<E, HttpResponse>, doing: &str) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let transient = match &error {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(context) => {
            context.raw().status().is_server_error()
                || context
                    .err()
                    .code()
                    .is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        _ => false,
    };
    let error = anyhow::Error::new(error).context(format!("DynamoDB failed while {doing}"));
    if transient {
        StoreError::Unavailable(error)
    } else {
        StoreError::Internal(error)
    }
}

/// How a cancelled transaction's items fared, read from its cancellation reasons (one per item, in order).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Cancelled {
    /// Another transaction touched one of the items at the same moment: worth another try.
    Contended,
    /// These items (by index) failed their conditions, and nothing else went wrong.
    ConditionsFailed(Vec<usize>),
}

/// Reads cancellation reasons. A contended item wins over failed conditions, because a retry may then find a
/// different set of failed conditions; a reason that is neither is a fault.
pub(super) fn cancelled(reasons: &[CancellationReason]) -> Result<Cancelled, StoreError> {
    let mut failed = Vec::new();
    let mut contended = false;
    for (index, reason) in reasons.iter().enumerate() {
        match reason.code() {
            None | Some("None") => {}
            Some("ConditionalCheckFailed") => failed.push(index),
            Some("TransactionConflict") => contended = true,
            Some(code @ ("ThrottlingError" | "ProvisionedThroughputExceeded")) => {
                return Err(StoreError::Unavailable(anyhow!(
                    "DynamoDB cancelled a transaction: {code}"
                )));
            }
            Some(code) => {
                return Err(StoreError::Internal(anyhow!(
                    "DynamoDB cancelled a transaction: item {index}: {code}"
                )));
            }
        }
    }
    if contended {
        Ok(Cancelled::Contended)
    } else if failed.is_empty() {
        Err(StoreError::Internal(anyhow!(
            "DynamoDB cancelled a transaction without saying why"
        )))
    } else {
        Ok(Cancelled::ConditionsFailed(failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect()
    }

    #[test]
    fn failed_conditions_are_listed_by_item_index() {
        let outcome = cancelled(&reasons(&[
            "None",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
        ]));
        assert_eq!(outcome.unwrap(), Cancelled::ConditionsFailed(vec![1, 2]));
    }

    #[test]
    fn a_transaction_conflict_anywhere_asks_for_a_retry() {
        let outcome = cancelled(&reasons(&[
            "TransactionConflict",
            "ConditionalCheckFailed",
            "None",
        ]));
        assert_eq!(outcome.unwrap(), Cancelled::Contended);
    }

    #[test]
    fn throttling_is_unavailable_and_other_reasons_are_faults() {
        assert!(matches!(
            cancelled(&reasons(&["None", "ThrottlingError"])),
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            cancelled(&reasons(&["ValidationError"])),
            Err(StoreError::Internal(_))
        ));
        assert!(matches!(
            cancelled(&reasons(&["None"])),
            Err(StoreError::Internal(_))
        ));
        assert!(matches!(cancelled(&[]), Err(StoreError::Internal(_))));
    }
}
