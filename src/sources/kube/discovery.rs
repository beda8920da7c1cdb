//! Discovery shared by the CRD watchers: one GET of `/apis/GROUP/VERSION` per group version,
//! however many of our kinds it serves (cilium.io/v2 serves several), and that one answer, a list
//! or an error, given to each of them. A throttled or failing API server is asked once, not once
//! per kind.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::Client;
use kube::core::{ApiResource, GroupVersionKind};
use tokio::sync::OnceCell;

use super::map;
use crate::model::SourceHealth;

type Answer = Result<APIResourceList, Arc<kube::Error>>;

/// What discovery says of one kind at one version.
#[derive(Debug)]
pub enum Found {
    Served(ApiResource),
    /// The group version is not served, or does not list the kind.
    Absent,
    /// Discovery failed (forbidden, throttled, unreachable): nothing is known.
    Failed,
}

pub struct Discovery {
    client: Client,
    docs: Mutex<HashMap<String, Arc<OnceCell<Answer>>>>,
}

impl Discovery {
    pub fn new(client: Client) -> Arc<Self> {
        Arc::new(Discovery { client, docs: Mutex::default() })
    }

    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The kind at the version `gvk` names; `scope` words the error as the kind's health would.
    pub async fn kind(&self, gvk: &GroupVersionKind, scope: &str) -> Found {
        let api_version = gvk.api_version();
        let cell = {
            let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
            docs.entry(api_version.clone()).or_default().clone()
        };
        let answer = cell
            .get_or_init(|| async {
                let list = if gvk.group.is_empty() {
                    self.client.list_core_api_resources(&api_version).await
                } else {
                    self.client.list_api_group_resources(&api_version).await
                };
                list.map_err(Arc::new)
            })
            .await;
        match answer {
            Ok(list) => list
                .resources
                .iter()
                .find(|r| r.kind == gvk.kind && !r.name.contains('/'))
                .map_or(Found::Absent, |r| Found::Served(ApiResource::from_gvk_with_plural(gvk, &r.name))),
            Err(e) => match map::api_error_health(e, "get", scope).1 {
                SourceHealth::NotInstalled => Found::Absent,
                _ => Found::Failed,
            },
        }
    }
}
