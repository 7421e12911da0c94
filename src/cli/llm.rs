//! `--llm` and its flags, shared by `soc suggest` and `soc eval`: flags override the
//! `SOC_LLM_*` environment (see `llm::LlmConfig::from_env`).

use crate::llm::{LlmConfig, OpenAi};
use clap::Args;

#[derive(Debug, Args, Clone, Default)]
pub struct LlmArgs {
    /// Ask an OpenAI-compatible LLM about what the engine is unsure about (fields, message
    /// categorization, unsplit text); every proposal is validated before it is kept.
    /// Configured by SOC_LLM_URL, SOC_LLM_MODEL, SOC_LLM_API_KEY (and SOC_LLM_TIMEOUT,
    /// SOC_LLM_RETRIES, SOC_LLM_CONCURRENCY, SOC_LLM_CACHE) or the flags below.
    #[arg(long)]
    pub llm: bool,
    /// Base URL of the OpenAI-compatible API (e.g. http://127.0.0.1:8080/v1).
    #[arg(long, value_name = "URL", requires = "llm")]
    pub llm_url: Option<String>,
    /// Model name sent to the server.
    #[arg(long, value_name = "NAME", requires = "llm")]
    pub llm_model: Option<String>,
    /// Do not read or write the answer cache.
    #[arg(long, requires = "llm")]
    pub llm_no_cache: bool,
}

impl LlmArgs {
    /// The client when `--llm` is given; an error when it is configured badly.
    pub fn client(&self) -> anyhow::Result<Option<OpenAi>> {
        if !self.llm {
            return Ok(None);
        }
        let (url, model) = (self.llm_url.clone(), self.llm_model.clone());
        let config = LlmConfig::from_lookup(|name| match name {
            "SOC_LLM_URL" if url.is_some() => url.clone(),
            "SOC_LLM_MODEL" if model.is_some() => model.clone(),
            "SOC_LLM_CACHE" if self.llm_no_cache => Some("off".into()),
            _ => std::env::var(name).ok(),
        })?;
        Ok(Some(OpenAi::new(config)?))
    }
}
