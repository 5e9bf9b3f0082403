//! A site served on loopback for the network runtime tests: a boot image, an OS image, a
//! driver package and a task sequence deployed to a lab collection (with a collection
//! variable) and to All Unknown Computers, one DP holding everything, management points whose
//! URLs are real servers (or closed ports), and media built from it by the media builder.
#![allow(dead_code)]

use std::fs;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;

use tsmedia_image::boot_payload::bios_boot_image;
use tsmedia_media::secret::KdfParams;
use tsmedia_media::{
    BuildOptions, MediaKind, MediaSpec, MpMode, PlanOptions, build, preflight_with,
};
use tsmedia_site::{
    ALL_UNKNOWN_COMPUTERS, Arch, Availability, PackageOptions, PackageType, Purpose, Site,
};
use tsmedia_wim::capture::{self, CaptureOptions};
use tsmedia_wim::{WimWriter, WriteOptions};

pub const GUID: &str = "4C4C4544-0042-3510-8052-B4C04F564433";
pub const MAC: &str = "00:15:5d:01:02:03";
pub const PASSWORD: &str = "correct horse";
/// An SMBIOS GUID the site does not know.
pub const STRANGER: &str = "11111111-2222-3333-4444-555555555555";

/// A running server; dropping it stops it.
pub struct Running {
    pub addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
    _rt: tokio::runtime::Runtime,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Serves the site at `site_dir` (MP and DP) on `listener`, over TLS with this certificate.
pub fn serve_tls(listener: TcpListener, site_dir: &Path, cert_pem: &str, key_pem: &str) -> Running {
    let tls = tsmedia_server::tls_config_from_pem(cert_pem.as_bytes(), key_pem.as_bytes())
        .expect("TLS configuration");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = listener.local_addr().expect("address");
    let app = tsmedia_server::router(site_dir, &tsmedia_server::ServerOptions::default())
        .expect("router");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(tsmedia_server::serve_tls(listener, app, tls, async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        _stop: tx,
        _rt: rt,
    }
}

/// A server certificate for 127.0.0.1 (PEM certificate, PEM key, DER certificate).
pub fn loopback_certificate() -> (String, String, Vec<u8>) {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("certificate");
    (cert.pem(), key.serialize_pem(), cert.der().to_vec())
}

/// Serves the site at `site_dir` (MP and DP) on `listener`.
pub fn serve(listener: TcpListener, site_dir: &Path) -> Running {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = listener.local_addr().expect("address");
    let app = tsmedia_server::router(site_dir, &tsmedia_server::ServerOptions::default())
        .expect("router");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    listener.set_nonblocking(true).expect("nonblocking");
    rt.spawn(async move {
        let l = tokio::net::TcpListener::from_std(listener).expect("listener");
        tsmedia_server::serve(l, app, async move {
            let _ = rx.await;
        })
        .await
    });
    Running {
        addr,
        _stop: tx,
        _rt: rt,
    }
}

/// A loopback address on which nothing listens.
pub fn closed_port() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let a = l.local_addr().expect("address");
    drop(l);
    format!("http://{a}")
}

pub fn write(path: &Path, data: &[u8]) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, data).expect("write");
}

fn capture_wim(src: &Path, out: &Path, name: &str) {
    let opts = WriteOptions {
        threads: 1,
        ..WriteOptions::default()
    };
    let mut w = WimWriter::create(out, opts).expect("create wim");
    capture::capture(
        src,
        &mut w,
        &CaptureOptions {
            name: Some(name.into()),
            ..CaptureOptions::default()
        },
    )
    .expect("capture");
    w.finish(1).expect("finish");
}

/// Deterministic filler bytes.
pub fn pattern(seed: u32, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A management point of the site: name, URL, boundaries.
pub struct MpDef {
    pub name: &'static str,
    pub url: String,
    pub boundaries: Vec<String>,
}

pub struct Lab {
    pub dir: tempfile::TempDir,
    pub site_dir: PathBuf,
    pub dp_url: String,
    pub boot_id: String,
    pub os_id: String,
    pub drivers_id: String,
    pub drivers_src: PathBuf,
    pub ts_id: String,
    pub deployment: String,
    pub unknown_deployment: String,
}

/// The task sequence: Apply OS (skipped on prestaged media), Apply Driver Package, and a
/// command line writing the collection variable `OSDComputerName`.
fn sequence(os: &str, drivers: &str) -> String {
    format!(
        r#"<sequence version="3.10">
  <referenceList><reference package="{os}" /><reference package="{drivers}" /></referenceList>
  <step type="SMS_TaskSequence_ApplyOperatingSystemAction" name="Apply Operating System">
    <action>OSDApplyOS.exe /image:{os},1</action>
    <defaultVarList><variable name="OSDImagePackageId" property="ImagePackageID">{os}</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_ApplyDriverPackageAction" name="Apply Drivers">
    <action>OSDApplyDriver.exe /install:{drivers}</action>
    <defaultVarList><variable name="OSDApplyDriverDriverPackageID" property="DriverPackageID">{drivers}</variable></defaultVarList>
  </step>
  <step type="SMS_TaskSequence_RunCommandLineAction" name="Name">
    <defaultVarList><variable name="CommandLine" property="CommandLine">printf '%s' "$OSDComputerName" &gt; name.txt</variable></defaultVarList>
  </step>
</sequence>"#
    )
}

impl Lab {
    /// A site whose DP is `dp_url` and whose management points are `mps`.
    pub fn new(dp_url: &str, mps: &[MpDef]) -> Lab {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let pe = root.join("src/pe");
        let b = pe.join("Windows/Boot");
        write(
            &b.join("DVD/PCAT/etfsboot.com"),
            &bios_boot_image("net-test", 16),
        );
        write(&b.join("DVD/EFI/en-US/efisys.bin"), &vec![0u8; 64 * 1024]);
        write(&b.join("EFI/bootmgfw.efi"), b"MZ bootmgfw stand-in");
        write(&b.join("PCAT/bootmgr"), b"bootmgr stand-in");
        write(
            &pe.join("Windows/System32/winpeshl.ini"),
            b"[LaunchApps]\r\n",
        );
        let boot_wim = root.join("src/boot/boot.wim");
        fs::create_dir_all(boot_wim.parent().expect("parent")).expect("mkdir");
        capture_wim(&pe, &boot_wim, "Microsoft Windows PE (x64)");
        let os = root.join("src/os-tree");
        write(&os.join("Windows/explorer.exe"), b"MZ explorer");
        write(
            &os.join("Windows/System32/config/SYSTEM"),
            &pattern(5, 300_000),
        );
        let os_wim = root.join("src/os/install.wim");
        fs::create_dir_all(os_wim.parent().expect("parent")).expect("mkdir");
        capture_wim(&os, &os_wim, "Windows 11 Enterprise");
        let drivers_src = root.join("src/drivers");
        write(
            &drivers_src.join("net/e1d.inf"),
            b"[Version]\r\nDriverVer=1.0\r\n",
        );
        write(&drivers_src.join("net/e1d.sys"), &pattern(9, 200_000));

        let site_dir = root.join("site");
        let mut site = Site::init(&site_dir, "PS1", Some("Network tests")).expect("site");
        let boot = site
            .add_package(
                PackageType::BootImage,
                "Boot image (x64)",
                &boot_wim,
                &PackageOptions {
                    arch: Some(Arch::X64),
                    image_index: Some(1),
                    ..PackageOptions::default()
                },
            )
            .expect("boot image");
        let os_image = site
            .add_package(
                PackageType::OsImage,
                "Windows 11",
                &os_wim,
                &PackageOptions::default(),
            )
            .expect("os image");
        let drivers = site
            .add_package(
                PackageType::Driver,
                "NIC drivers",
                &drivers_src,
                &PackageOptions::default(),
            )
            .expect("drivers");
        let ts = site
            .import_task_sequence(
                &sequence(&os_image.id, &drivers.id),
                "Deploy Windows 11",
                Some(&boot.id),
            )
            .expect("task sequence");
        assert!(ts.unresolved.is_empty(), "{:?}", ts.unresolved);
        site.add_distribution_point("DP1", dp_url).expect("dp");
        site.distribute(
            &[boot.id.clone(), os_image.id.clone(), drivers.id.clone()],
            "DP1",
        )
        .expect("distribute");
        // Guests: the unauthenticated principals, the media's default record among them, but
        // no named account (so a test can record one without read access).
        site.grant_dp_read("DP1", "Guests").expect("grant");
        for m in mps {
            site.add_management_point(m.name, &m.url, &m.boundaries)
                .expect("mp");
        }
        site.import_computer("PC1", GUID, MAC).expect("computer");
        site.add_collection("Lab").expect("collection");
        site.add_collection_members("Lab", &["PC1".to_string()])
            .expect("members");
        site.set_collection_variable("Lab", "OSDComputerName", "LAB-PC1")
            .expect("variable");
        let deployment = site
            .deploy(&ts.id, "Lab", Availability::MediaPxe, Purpose::Available)
            .expect("deploy")
            .id;
        let unknown_deployment = site
            .deploy(
                &ts.id,
                ALL_UNKNOWN_COMPUTERS,
                Availability::MediaPxe,
                Purpose::Available,
            )
            .expect("deploy to unknown computers")
            .id;
        Lab {
            site_dir,
            dp_url: dp_url.to_string(),
            boot_id: boot.id,
            os_id: os_image.id,
            drivers_id: drivers.id,
            drivers_src,
            ts_id: ts.id,
            deployment,
            unknown_deployment,
            dir,
        }
    }

    pub fn site(&self) -> Site {
        Site::open(&self.site_dir).expect("open site")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A media spec for this site.
    pub fn spec(&self, kind: MediaKind, out: &str) -> MediaSpec {
        MediaSpec {
            kind,
            out: self.path(out),
            boot_image: Some(self.boot_id.clone()),
            dp: vec!["DP1".into()],
            mode: MpMode::SiteBased,
            ts: (kind == MediaKind::Prestaged).then(|| self.ts_id.clone()),
            os_image: (kind == MediaKind::Prestaged).then(|| self.os_id.clone()),
            password: (kind == MediaKind::Bootable).then(|| PASSWORD.to_string()),
            unattended: true,
            label: Some("NETTEST".into()),
            ..MediaSpec::default()
        }
    }

    /// Builds media (a cheap password KDF: tests, not secrets) and returns the media root as
    /// a folder: the ISO extracted with 7-Zip, or the prestaged WIM applied with the wim crate.
    pub fn media(&self, spec: &MediaSpec, name: &str) -> PathBuf {
        let mut site = self.site();
        // A small stand-in runtime: the runtime's bytes do not matter here, and compressing
        // this test binary into every boot.wim would cost minutes.
        let runtime = self.path("runtime-stand-in");
        if !runtime.is_file() {
            write(&runtime, b"tsmedia runtime stand-in\n");
        }
        let plan = preflight_with(
            &site,
            spec,
            &PlanOptions {
                runtime: Some(runtime),
                ..PlanOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("preflight: {e:#?}"));
        let options = BuildOptions {
            kdf: KdfParams {
                memory_kib: 1024,
                passes: 1,
                lanes: 1,
            },
            ..BuildOptions::default()
        };
        let report = build(&mut site, &plan, &options).expect("build media");
        let root = self.path(name);
        let out = &report.outputs[0];
        if spec.kind == MediaKind::Prestaged {
            let wim = tsmedia_wim::Wim::open(out).expect("open prestaged wim");
            tsmedia_wim::apply::apply(&wim, 1, &root, &Default::default())
                .expect("apply prestaged wim");
        } else {
            let out = Command::new("7zz")
                .arg("x")
                .arg("-y")
                .arg(format!("-o{}", root.display()))
                .arg(out)
                .output()
                .unwrap_or_else(|e| panic!("7zz is needed (apt-get install 7zip): {e}"));
            assert!(
                out.status.success(),
                "7zz: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(root.join("SMS/data/Variables.dat").is_file());
        root
    }

    /// Another task sequence like the first, deployed to the lab with `availability`; returns
    /// the deployment ID.
    pub fn deploy_another(&self, name: &str, availability: Availability) -> String {
        let mut site = self.site();
        let ts = site
            .import_task_sequence(
                &sequence(&self.os_id, &self.drivers_id),
                name,
                Some(&self.boot_id),
            )
            .expect("task sequence");
        site.distribute(std::slice::from_ref(&ts.id), "DP1")
            .expect("distribute");
        site.deploy(&ts.id, "Lab", availability, Purpose::Available)
            .expect("deploy")
            .id
    }

    /// Changes the driver package's files and makes a new content version on DP1, as
    /// `tsmedia package update` and `tsmedia content distribute` do.
    pub fn update_drivers(&self) -> String {
        write(
            &self.drivers_src.join("net/e1d.inf"),
            b"[Version]\r\nDriverVer=2.0\r\n",
        );
        let mut site = self.site();
        let p = site
            .update_package(&self.drivers_id, None)
            .expect("package update");
        site.distribute(std::slice::from_ref(&p.id), "DP1")
            .expect("distribute");
        p.content_id
    }
}
