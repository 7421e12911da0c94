//! Where the model lives and how to talk to it: [`LlmConfig`], read from `SOC_LLM_*`
//! environment variables through an injectable lookup. The API key is never printed: the
//! `Debug` output redacts it. Depends on nothing else in the crate but `LlmError`.

use super::LlmError;
use std::path::PathBuf;
use std::time::Duration;

/// How to reach an OpenAI-compatible model. Build one with [`LlmConfig::new`] (defaults
/// for the rest), [`LlmConfig::from_env`] or a struct literal.
#[derive(Clone, PartialEq)]
pub struct LlmConfig {
    /// The API root, e.g. `http://127.0.0.1:8080/v1`; requests go to
    /// `{base_url}/chat/completions` (a trailing `/` is ignored).
    pub base_url: String,
    /// The model name sent with every request (and part of the cache key).
    pub model: String,
    /// Sent as `Authorization: Bearer …`; never logged, never in `Debug`, removed from any
    /// server text that ends up in an error.
    pub api_key: Option<String>,
    /// Per HTTP attempt, including reading the answer. Default 60 s.
    pub timeout: Duration,
    /// Extra attempts after a 429, a 5xx, a timeout or a transport error. Default 3.
    pub retries: u32,
    /// Requests in flight at once. Default 4.
    pub concurrency: usize,
    /// `max_tokens` of every request. Default 512.
    pub max_tokens: u32,
    /// `temperature` of every request. Default 0.0 (repeatable answers, which the cache and
    /// the no-retry policy for bad answers rely on).
    pub temperature: f64,
    /// The answer cache; `None` disables it.
    pub cache_dir: Option<PathBuf>,
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_CONCURRENCY: usize = 4;
const DEFAULT_MAX_TOKENS: u32 = 512;

impl Default for LlmConfig {
    /// Empty URL and model (which [`LlmConfig::check`] rejects), defaults elsewhere, no cache.
    fn default() -> Self {
        LlmConfig {
            base_url: String::new(),
            model: String::new(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            concurrency: DEFAULT_CONCURRENCY,
            max_tokens: DEFAULT_MAX_TOKENS,
            temperature: 0.0,
            cache_dir: None,
        }
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("concurrency", &self.concurrency)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

impl LlmConfig {
    /// A config for `model` at `base_url` with every other field at its default (no cache).
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            model: model.into(),
            ..LlmConfig::default()
        }
    }

    /// Reads `SOC_LLM_URL`, `SOC_LLM_MODEL` (both required), `SOC_LLM_API_KEY`,
    /// `SOC_LLM_TIMEOUT` (seconds), `SOC_LLM_RETRIES`, `SOC_LLM_CONCURRENCY` and
    /// `SOC_LLM_CACHE` (a directory, or `off`) from the process environment.
    pub fn from_env() -> Result<Self, LlmError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`LlmConfig::from_env`] over any lookup, for tests. Empty values count as unset. The
    /// cache defaults to `$XDG_CACHE_HOME/agentic-soc/llm`, else `$HOME/.cache/agentic-soc/llm`,
    /// else none.
    ///
    /// ```
    /// use agentic_soc::llm::LlmConfig;
    ///
    /// let env = |name: &str| match name {
    ///     "SOC_LLM_URL" => Some("http://127.0.0.1:8080/v1".to_string()),
    ///     "SOC_LLM_MODEL" => Some("qwen2.5-coder-0.5b-instruct".to_string()),
    ///     "SOC_LLM_CACHE" => Some("off".to_string()),
    ///     _ => None,
    /// };
    /// let config = LlmConfig::from_lookup(env).unwrap();
    /// assert_eq!(config.retries, 3);
    /// assert_eq!(config.cache_dir, None);
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LlmError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let base_url = get("SOC_LLM_URL").ok_or_else(|| {
            LlmError::Config("SOC_LLM_URL is not set (e.g. http://127.0.0.1:8080/v1)".into())
        })?;
        let model = get("SOC_LLM_MODEL")
            .ok_or_else(|| LlmError::Config("SOC_LLM_MODEL is not set".into()))?;
        let mut config = LlmConfig::new(base_url, model);
        config.api_key = lookup("SOC_LLM_API_KEY").filter(|k| !k.trim().is_empty());
        if let Some(text) = get("SOC_LLM_TIMEOUT") {
            let seconds: f64 = text
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 1e6)
                .ok_or_else(|| {
                    LlmError::Config(format!(
                        "SOC_LLM_TIMEOUT must be a positive number of seconds, not {text:?}"
                    ))
                })?;
            config.timeout = Duration::from_secs_f64(seconds);
        }
        if let Some(text) = get("SOC_LLM_RETRIES") {
            config.retries = text.parse().map_err(|_| {
                LlmError::Config(format!(
                    "SOC_LLM_RETRIES must be a whole number, not {text:?}"
                ))
            })?;
        }
        if let Some(text) = get("SOC_LLM_CONCURRENCY") {
            config.concurrency = text
                .parse()
                .ok()
                .filter(|n: &usize| *n > 0)
                .ok_or_else(|| {
                    LlmError::Config(format!(
                        "SOC_LLM_CONCURRENCY must be a whole number above 0, not {text:?}"
                    ))
                })?;
        }
        config.cache_dir = match get("SOC_LLM_CACHE") {
            Some(dir) if dir.eq_ignore_ascii_case("off") => None,
            Some(dir) => Some(PathBuf::from(dir)),
            None => default_cache_dir(&get),
        };
        config.check()?;
        Ok(config)
    }

    /// Rejects a config that cannot work: a URL that is not http(s) with a host, no model,
    /// no concurrency.
    pub fn check(&self) -> Result<(), LlmError> {
        let usable = reqwest::Url::parse(self.base_url.trim()).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.host_str().is_some_and(|h| !h.is_empty())
        });
        if !usable {
            return Err(LlmError::Config(format!(
                "the LLM URL {:?} must be an http:// or https:// URL with a host",
                self.base_url
            )));
        }
        if self.model.trim().is_empty() {
            return Err(LlmError::Config("no model name".into()));
        }
        if self.concurrency == 0 {
            return Err(LlmError::Config("concurrency must be at least 1".into()));
        }
        if self.timeout.is_zero() {
            return Err(LlmError::Config("the timeout must be above zero".into()));
        }
        Ok(())
    }

    /// `{base_url}/chat/completions`.
    pub fn endpoint(&self) -> String {
        format!(
            "{}/chat/completions",
            self.base_url.trim().trim_end_matches('/')
        )
    }
}

fn default_cache_dir(get: &impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let base = get("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| get("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("agentic-soc").join("llm"))
}
