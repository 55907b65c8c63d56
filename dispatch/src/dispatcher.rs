//! The [`Processor`] that invokes a function's Lambda, and the loop over all functions.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use lastmile_contract::FunctionSpec;
use lastmile_events::subjects;
use lastmile_runtime::bus::{Bus, Message, TRACEPARENT_HEADER};
use lastmile_runtime::executor::ProcessError;
use lastmile_runtime::host::nats::{HostError, HostOptions, HostReport, Processor, run_consumer};
use lastmile_runtime::telemetry;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::LambdaConfig;
use crate::outcome::{Invoked, settle};

/// Invokes one function's Lambda with each incident (see the crate docs).
#[derive(Clone)]
pub struct Dispatcher {
    function: &'static str,
    lambda: String,
    client: aws_sdk_lambda::Client,
}

impl Dispatcher {
    /// A dispatcher of `function`'s incidents to the Lambda `lambda`.
    pub fn new(function: &'static str, lambda: String, client: aws_sdk_lambda::Client) -> Self {
        Self {
            function,
            lambda,
            client,
        }
    }

    /// The durable consumer of this dispatcher: `lambda-<function>` on the function's
    /// incident subjects (its own, so a NATS-hosted copy of the function does not share it).
    pub fn consumer_spec(
        opts: &HostOptions,
        spec: &FunctionSpec,
    ) -> lastmile_runtime::bus::ConsumerSpec {
        let mut consumer = opts.consumer_spec(spec);
        consumer.durable = format!("lambda-{}", subjects::token(spec.name));
        consumer
    }

    async fn invoke(&self, payload: Vec<u8>) -> Result<(), ProcessError> {
        let sent = self
            .client
            .invoke()
            .function_name(&self.lambda)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(payload))
            .send()
            .await;
        let invoked_error;
        let invoked = match &sent {
            Ok(out) => Invoked::Ran {
                function_error: out.function_error(),
                payload: out.payload().map(Blob::as_ref).unwrap_or_default(),
            },
            Err(SdkError::ServiceError(e)) => Invoked::Refused {
                status: e.raw().status().as_u16(),
                code: e.err().code(),
                message: e.err().message(),
            },
            Err(e @ SdkError::ConstructionFailure(_)) => {
                invoked_error = DisplayErrorContext(e).to_string();
                Invoked::Unsendable(invoked_error)
            }
            Err(e) => {
                invoked_error = DisplayErrorContext(e).to_string();
                Invoked::NoAnswer(invoked_error)
            }
        };
        settle(&self.lambda, &invoked)
    }
}

#[async_trait]
impl Processor for Dispatcher {
    fn name(&self) -> &str {
        self.function
    }

    async fn process(&self, message: &Message) -> Result<(), ProcessError> {
        let mut event = parse_object(&message.payload)?;
        let event_id = event
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let span = tracing::info_span!(
            "lastmile.dispatch",
            otel.name = %format!("invoke {}", self.lambda),
            otel.kind = "client",
            faas.invoked_name = %self.lambda,
            faas.invoked_provider = "aws",
            messaging.system = "nats",
            messaging.destination.name = %message.subject,
            cloudevents.event_id = %event_id,
        );
        // The transport's header first, else the envelope's extension (as the executor).
        let mut parent = message.headers.clone();
        if !parent
            .keys()
            .any(|k| k.eq_ignore_ascii_case(TRACEPARENT_HEADER))
            && let Some(tp) = event.get("traceparent").and_then(Value::as_str)
        {
            parent.insert(TRACEPARENT_HEADER.to_owned(), tp.to_owned());
        }
        telemetry::set_parent_from(&span, &parent);
        let mut context = BTreeMap::new();
        span.in_scope(|| telemetry::inject_current(&mut context));
        // The Lambda host reads the trace context from the envelope (Lambda has no headers).
        for (attr, value) in context {
            event.insert(attr, Value::String(value));
        }
        let payload = serde_json::to_vec(&event)
            .map_err(|e| ProcessError::BadInput(format!("cannot re-encode the event: {e}")))?;
        let result = self.invoke(payload).instrument(span.clone()).await;
        if let Err(e) = &result {
            span.in_scope(
                || tracing::warn!(lambda = %self.lambda, error = %e, "Invocation failed."),
            );
        }
        result
    }
}

/// The message as a JSON object (Lambda payloads must be JSON; the function wants an object).
fn parse_object(payload: &[u8]) -> Result<serde_json::Map<String, Value>, ProcessError> {
    match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ProcessError::BadInput(
            "the message is JSON but not an object, so not a structured CloudEvent".into(),
        )),
        Err(e) => Err(ProcessError::BadInput(format!(
            "the message is not JSON, so Lambda cannot take it: {e}"
        ))),
    }
}

/// Dispatches the incidents of every function in `functions` to its Lambda until `shutdown`
/// is cancelled, then drains; returns each consumer's report, in order.
pub async fn run(
    functions: &[&'static FunctionSpec],
    config: &LambdaConfig,
    bus: Arc<dyn Bus>,
    opts: HostOptions,
    shutdown: CancellationToken,
) -> Result<Vec<HostReport>, HostError> {
    let client = config.client().await;
    let consumers = functions.iter().map(|spec| {
        let lambda = config.lambda_name(spec.name);
        tracing::info!(function = spec.name, %lambda, "Dispatching to Lambda.");
        let dispatcher = Arc::new(Dispatcher::new(spec.name, lambda, client.clone()));
        run_consumer(
            dispatcher,
            Dispatcher::consumer_spec(&opts, spec),
            bus.clone(),
            opts.clone(),
            shutdown.clone().cancelled_owned(),
        )
    });
    futures::future::join_all(consumers)
        .await
        .into_iter()
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
