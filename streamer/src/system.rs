//! What machine the streamer runs on: OS, CPU, memory and GPUs, for `doctor` and for picking
//! encoder candidates.

use std::fmt::Write as _;

use sysinfo::{CpuRefreshKind, Gpus, MemoryRefreshKind, RefreshKind, System};

#[derive(Debug, Clone)]
pub struct SystemInfo {
    /// `std::env::consts::OS`: the key encoder candidates are chosen by.
    pub os: &'static str,
    /// The distribution or product name and version, or "unknown".
    pub os_version: String,
    pub kernel: String,
    pub arch: String,
    pub cpu_brand: String,
    pub logical_cores: usize,
    pub physical_cores: Option<usize>,
    pub memory_bytes: u64,
    /// GPUs found, or why none could be listed.
    pub gpus: Result<Vec<GpuInfo>, String>,
}

#[derive(Debug, Clone)]
pub struct GpuInfo {
    pub vendor: String,
    pub model: String,
    pub pci: String,
}

const UNKNOWN: &str = "unknown";

pub fn detect() -> SystemInfo {
    let os_version = System::long_os_version().unwrap_or_else(|_| UNKNOWN.to_owned());
    let kernel = System::kernel_long_version().unwrap_or_else(|_| UNKNOWN.to_owned());
    let (cpu_brand, logical_cores, memory_bytes) = match System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::nothing())
            .with_memory(MemoryRefreshKind::nothing().with_ram()),
    ) {
        Ok(sys) => (
            sys.cpus()
                .first()
                .map_or_else(|| UNKNOWN.to_owned(), |c| c.brand().trim().to_owned()),
            sys.cpus().len(),
            sys.total_memory(),
        ),
        Err(_) => (
            UNKNOWN.to_owned(),
            std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
            0,
        ),
    };
    let gpus = match Gpus::new_with_refreshed_list() {
        Ok(gpus) => Ok((&gpus)
            .into_iter()
            .map(|g| GpuInfo {
                vendor: g.vendor().unwrap_or(UNKNOWN).to_owned(),
                model: g.model().unwrap_or(UNKNOWN).to_owned(),
                pci: g.pci().to_string(),
            })
            .collect()),
        Err(e) => Err(format!("GPU listing is unavailable here ({e})")),
    };
    SystemInfo {
        os: std::env::consts::OS,
        os_version,
        kernel,
        arch: System::cpu_arch(),
        cpu_brand,
        logical_cores,
        physical_cores: System::physical_core_count().ok(),
        memory_bytes,
        gpus,
    }
}

impl SystemInfo {
    /// Human-readable lines for `doctor`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "OS:       {} ({}), kernel {}",
            self.os_version, self.os, self.kernel
        );
        let _ = writeln!(out, "Arch:     {}", self.arch);
        let physical = self
            .physical_cores
            .map_or_else(|| UNKNOWN.to_owned(), |n| n.to_string());
        let _ = writeln!(
            out,
            "CPU:      {} ({} logical cores, {physical} physical)",
            self.cpu_brand, self.logical_cores
        );
        let _ = writeln!(out, "Memory:   {} MiB", self.memory_bytes / (1024 * 1024));
        match &self.gpus {
            Ok(gpus) if gpus.is_empty() => {
                let _ = writeln!(out, "GPUs:     none detected");
            }
            Ok(gpus) => {
                for gpu in gpus {
                    let _ = writeln!(
                        out,
                        "GPU:      {} {} (PCI {})",
                        gpu.vendor, gpu.model, gpu.pci
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(out, "GPUs:     unknown: {e}");
            }
        }
        if let Some(nodes) = render_nodes() {
            let _ = writeln!(
                out,
                "DRM:      {}",
                if nodes.is_empty() {
                    "no render nodes in /dev/dri".to_owned()
                } else {
                    nodes.join(", ")
                }
            );
        }
        out
    }
}

/// VAAPI and QSV on Linux open a `/dev/dri/renderD*` node; listing them tells a user why those
/// encoders were rejected. `None` where the concept does not apply.
fn render_nodes() -> Option<Vec<String>> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let Ok(entries) = std::fs::read_dir("/dev/dri") else {
        return Some(Vec::new());
    };
    let mut nodes: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("renderD"))
        .map(|n| format!("/dev/dri/{n}"))
        .collect();
    nodes.sort();
    Some(nodes)
}
