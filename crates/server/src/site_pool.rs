//! A small pool of open sites (SQLite connections) used from blocking threads, and the
//! manifest cache of the distribution point.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;
use tsmedia_site::{ManifestEntry, Site};

use crate::error::ApiError;

/// Open sites, at most `size` at a time.
#[derive(Debug)]
pub(crate) struct SitePool {
    dir: PathBuf,
    idle: Mutex<Vec<Site>>,
    permits: Semaphore,
    /// Content versions never change once imported, so their manifests are cached.
    manifests: Mutex<HashMap<String, Arc<Vec<ManifestEntry>>>>,
}

impl SitePool {
    /// Opens the first site to check that `dir` holds one.
    pub(crate) fn open(dir: &Path, size: usize) -> tsmedia_site::Result<SitePool> {
        let first = Site::open(dir)?;
        Ok(SitePool {
            dir: dir.to_path_buf(),
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(size.max(1)),
            manifests: Mutex::new(HashMap::new()),
        })
    }

    /// Runs `f` with an open site on a blocking thread.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Site) -> Result<T, ApiError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| ApiError::internal(format!("site pool closed: {e}")))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let site = pool.take()?;
            let result = f(&site);
            pool.put(site);
            result
        })
        .await
        .map_err(|e| ApiError::internal(format!("site task failed: {e}")))?
    }

    fn take(&self) -> Result<Site, ApiError> {
        let idle = self.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
        match idle {
            Some(site) => Ok(site),
            None => {
                Site::open(&self.dir).map_err(|e| ApiError::internal(tsmedia_base::error_chain(&e)))
            }
        }
    }

    fn put(&self, site: Site) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(site);
        }
    }

    /// The manifest of a content version, from the cache or the site.
    pub(crate) fn manifest(
        &self,
        site: &Site,
        content_id: &str,
    ) -> Result<Arc<Vec<ManifestEntry>>, ApiError> {
        if let Some(m) = self
            .manifests
            .lock()
            .ok()
            .and_then(|m| m.get(content_id).cloned())
        {
            return Ok(m);
        }
        let files = Arc::new(site.content_files(content_id)?);
        if let Ok(mut cache) = self.manifests.lock() {
            cache.insert(content_id.to_string(), Arc::clone(&files));
        }
        Ok(files)
    }
}
