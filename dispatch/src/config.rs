//! How the dispatcher reaches Lambda: endpoint, region, function names, timeouts.

use std::time::Duration;

use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Region};
use lastmile_runtime::bus::nats::{ConfigError, parse_duration};

/// Default Lambda function name of a lastmile function: `lastmile-fn-<name>`, as
/// `infra/lambda/template.yaml` names them.
pub fn default_lambda_name(function: &str) -> String {
    format!("lastmile-fn-{function}")
}

/// Flags and environment variables of `lastmile dispatch`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct LambdaConfig {
    /// Lambda API endpoint URL (a VPC endpoint, or a test server); default: AWS's regional
    /// endpoint.
    #[arg(
        id = "lambda_endpoint",
        value_name = "URL",
        long = "lambda-endpoint",
        env = "LASTMILE_LAMBDA_ENDPOINT"
    )]
    pub endpoint: Option<String>,
    /// Region; else the AWS chain's (`AWS_REGION`, profile).
    #[arg(
        id = "lambda_region",
        value_name = "REGION",
        long = "lambda-region",
        env = "LASTMILE_LAMBDA_REGION"
    )]
    pub region: Option<String>,
    /// The Lambda of a lastmile function, `NAME=FUNCTION` (a name, ARN or alias ARN),
    /// comma-separated or repeated; a function not named here is `lastmile-fn-NAME`.
    #[arg(
        id = "lambda_functions",
        value_name = "NAME=FUNCTION",
        long = "lambda-function",
        env = "LASTMILE_LAMBDA_FUNCTIONS",
        value_delimiter = ','
    )]
    pub functions: Vec<String>,
    /// Longest wait for one invocation, from connect to the last response byte; keep it
    /// above the functions' Lambda timeout.
    #[arg(id = "lambda_invoke_timeout",
        value_name = "DURATION", long = "invoke-timeout", env = "LASTMILE_LAMBDA_INVOKE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    pub invoke_timeout: Duration,
    /// Longest TCP/TLS connect to the Lambda endpoint.
    #[arg(id = "lambda_connect_timeout",
        value_name = "DURATION", long = "lambda-connect-timeout", env = "LASTMILE_LAMBDA_CONNECT_TIMEOUT", default_value = "3s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
}

impl Default for LambdaConfig {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: None,
            functions: Vec::new(),
            invoke_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(3),
        }
    }
}

impl LambdaConfig {
    /// Checks the configuration against the functions that exist; the message names the flag.
    pub fn validate(&self, known: &[&str]) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if let Some(e) = &self.endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return bad(format!(
                "--lambda-endpoint {e:?} must be an http:// or https:// URL"
            ));
        }
        if self.invoke_timeout < Duration::from_secs(1) || self.connect_timeout.is_zero() {
            return bad(
                "--invoke-timeout must be at least 1s and --lambda-connect-timeout above 0".into(),
            );
        }
        for entry in self.functions.iter().filter(|e| !e.trim().is_empty()) {
            match entry.split_once('=') {
                Some((name, lambda))
                    if known.contains(&name.trim()) && !lambda.trim().is_empty() => {}
                Some((name, _)) if !known.contains(&name.trim()) => {
                    return bad(format!(
                        "--lambda-function {entry:?}: unknown function {name:?} (known: {})",
                        known.join(", ")
                    ));
                }
                _ => return bad(format!("--lambda-function {entry:?} is not NAME=FUNCTION")),
            }
        }
        Ok(())
    }

    /// The Lambda that runs `function` (see [`LambdaConfig::functions`]).
    pub fn lambda_name(&self, function: &str) -> String {
        self.functions
            .iter()
            .filter_map(|e| e.split_once('='))
            .find(|(name, _)| name.trim() == function)
            .map(|(_, lambda)| lambda.trim().to_owned())
            .unwrap_or_else(|| default_lambda_name(function))
    }

    fn timeouts(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.invoke_timeout)
            .operation_attempt_timeout(self.invoke_timeout)
            .operation_timeout(self.invoke_timeout)
            .build()
    }

    /// The Lambda client: credentials from the standard AWS chain, these timeouts, and no
    /// SDK retries (a failed invoke is nak'ed and redelivered by JetStream, with backoff, so
    /// retries are counted against `max_deliver` and visible in one place).
    pub async fn client(&self) -> aws_sdk_lambda::Client {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).timeout_config(self.timeouts());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let mut config = aws_sdk_lambda::config::Builder::from(&sdk)
            .timeout_config(self.timeouts())
            .retry_config(aws_sdk_lambda::config::retry::RetryConfig::disabled());
        if let Some(endpoint) = &self.endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        aws_sdk_lambda::Client::from_conf(config.build())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
