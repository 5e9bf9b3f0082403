//! Every error case of the acceptance list: a clear message naming the object, a non-zero
//! exit, and the database left exactly as it was.

mod site_common;

use site_common::{Env, make_wim};

/// A site with a package, a boot image, a task sequence, a DP, an MP, a computer, a
/// collection and a certificate-free setup, for the error cases to collide with.
fn populated() -> Env {
    let env = Env::new();
    env.write("tools/a.txt", b"a");
    env.ok(&[
        "package", "add", "--type", "package", "--name", "Tools", "tools",
    ]); // LAB00001
    let wim = make_wim(&env, "boot.wim", &[("PE", Some(9))]);
    env.ok(&[
        "package",
        "add",
        "--type",
        "boot-image",
        "--name",
        "Boot",
        wim.to_str().unwrap(),
    ]); // LAB00002
    env.write(
        "ts.xml",
        br#"<sequence version="3.10"><step type="SMS_TaskSequence_RunCommandLineAction" name="Hello"><action>cmd /c echo</action></step></sequence>"#,
    );
    env.ok(&["ts", "import", "ts.xml", "--name", "Hello"]); // LAB00003
    env.ok(&["dp", "add", "dp1", "--url", "http://dp1"]);
    env.ok(&["mp", "add", "mp1", "--url", "http://mp1"]);
    env.ok(&["collection", "add", "Lab"]); // LAB00004
    env.ok(&[
        "computer",
        "import",
        "--name",
        "PC1",
        "--smbios-guid",
        "11111111-2222-3333-4444-555555555555",
        "--mac",
        "00:11:22:33:44:55",
    ]);
    env
}

#[test]
fn unknown_ids_are_named() {
    let env = populated();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["package", "show", "LAB0DEAD"],
            &["package", "LAB0DEAD", "not found"],
        ),
        (
            &["package", "update", "LAB0DEAD"],
            &["LAB0DEAD", "not found"],
        ),
        (&["package", "prune", "LAB0DEAD"], &["LAB0DEAD"]),
        (
            &[
                "package",
                "add",
                "--type",
                "application",
                "--name",
                "X",
                "tools",
                "--depends",
                "LAB0DEAD",
            ],
            &["LAB0DEAD"],
        ),
        (
            &[
                "package",
                "add",
                "--type",
                "boot-image",
                "--name",
                "X",
                "boot.wim",
                "--prestart-package",
                "LAB0DEAD",
            ],
            &["LAB0DEAD"],
        ),
        (&["content", "show", "LAB0DEAD"], &["LAB0DEAD"]),
        (
            &["content", "show", "LAB00001.7"],
            &["content", "LAB00001.7", "not found"],
        ),
        (&["content", "verify", "LAB0DEAD"], &["LAB0DEAD"]),
        (
            &["content", "distribute", "LAB0DEAD", "--dp", "dp1"],
            &["LAB0DEAD"],
        ),
        (
            &["content", "distribute", "LAB00001", "--dp", "nodp"],
            &["distribution point", "nodp"],
        ),
        (&["ts", "show", "LAB0DEAD"], &["task sequence", "LAB0DEAD"]),
        (
            &["ts", "export", "LAB0DEAD"],
            &["task sequence", "LAB0DEAD"],
        ),
        (
            &["ts", "references", "LAB0DEAD"],
            &["task sequence", "LAB0DEAD"],
        ),
        (
            &[
                "ts",
                "import",
                "ts.xml",
                "--name",
                "Other",
                "--boot-image",
                "LAB0DEAD",
            ],
            &["LAB0DEAD"],
        ),
        (
            &[
                "ts",
                "import",
                "ts.xml",
                "--name",
                "Other",
                "--boot-image",
                "LAB00001",
            ],
            &["LAB00001", "package", "boot-image"],
        ),
        (
            &[
                "deploy",
                "LAB0DEAD",
                "--collection",
                "Lab",
                "--availability",
                "media-pxe",
            ],
            &["task sequence", "LAB0DEAD"],
        ),
        (
            &[
                "deploy",
                "LAB00003",
                "--collection",
                "Nowhere",
                "--availability",
                "media-pxe",
            ],
            &["collection", "Nowhere"],
        ),
        (&["deploy", "show", "LAB0DEAD"], &["deployment", "LAB0DEAD"]),
        (&["dp", "show", "nodp"], &["distribution point", "nodp"]),
        (
            &["dp", "grant", "nodp", "--principal", "LAB\\x"],
            &["distribution point", "nodp"],
        ),
        (&["mp", "show", "nomp"], &["management point", "nomp"]),
        (&["computer", "show", "NOPC"], &["computer", "NOPC"]),
        (
            &["collection", "show", "Nothing"],
            &["collection", "Nothing"],
        ),
        (
            &["collection", "add-member", "Nothing", "--computer", "PC1"],
            &["collection", "Nothing"],
        ),
        (
            &["collection", "add-member", "Lab", "--computer", "NOPC"],
            &["computer", "NOPC"],
        ),
        (
            &["collection", "set-var", "Nothing", "A=1"],
            &["collection", "Nothing"],
        ),
        (&["cert", "show", "00FF"], &["certificate", "00FF"]),
        (&["cert", "block", "00FF"], &["certificate", "00FF"]),
        (&["cert", "unblock", "00FF"], &["certificate", "00FF"]),
    ];
    for (args, names) in cases {
        env.fail(args, names);
    }
}

#[test]
fn duplicate_names_are_refused() {
    let env = populated();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "package", "add", "--type", "package", "--name", "tools", "tools",
            ],
            &["Tools", "already exists", "LAB00001"],
        ),
        (
            &[
                "package",
                "add",
                "--type",
                "boot-image",
                "--name",
                "Boot",
                "boot.wim",
            ],
            &["Boot", "already exists", "LAB00002"],
        ),
        (
            &["ts", "import", "ts.xml", "--name", "Hello"],
            &["Hello", "already exists", "LAB00003"],
        ),
        (
            &["dp", "add", "DP1", "--url", "http://x"],
            &["dp1", "already exists"],
        ),
        (
            &["mp", "add", "mp1", "--url", "http://x"],
            &["mp1", "already exists"],
        ),
        (
            &["collection", "add", "lab"],
            &["lab", "already exists", "LAB00004"],
        ),
        (
            &["collection", "add", "All Systems"],
            &["All Systems", "already exists", "SMS00001"],
        ),
        (
            &[
                "computer",
                "import",
                "--name",
                "PC1",
                "--smbios-guid",
                "99999999-2222-3333-4444-555555555555",
                "--mac",
                "00:11:22:33:44:66",
            ],
            &["PC1", "already exists"],
        ),
        (
            &[
                "computer",
                "import",
                "--name",
                "PC2",
                "--smbios-guid",
                "{11111111-2222-3333-4444-555555555555}",
                "--mac",
                "00:11:22:33:44:66",
            ],
            &[
                "11111111-2222-3333-4444-555555555555",
                "already exists",
                "PC1",
            ],
        ),
    ];
    for (args, names) in cases {
        env.fail(args, names);
    }
    // The same package name is fine for another type.
    env.ok(&[
        "package", "add", "--type", "driver", "--name", "Tools", "tools",
    ]);
    // Deploying the same task sequence to the same collection twice.
    env.ok(&[
        "deploy",
        "LAB00003",
        "--collection",
        "Lab",
        "--availability",
        "media-pxe",
    ]);
    env.fail(
        &[
            "deploy",
            "LAB00003",
            "--collection",
            "Lab",
            "--availability",
            "clients",
        ],
        &["LAB00003", "LAB00004", "already exists"],
    );
}

#[test]
fn missing_files_are_named() {
    let env = populated();
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "package",
            "--name",
            "New",
            "nothing-here",
        ],
        &["nothing-here", "No such file"],
    );
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "os-image",
            "--name",
            "New",
            "missing.wim",
        ],
        &["missing.wim"],
    );
    env.fail(&["package", "update", "LAB00001", "gone"], &["gone"]);
    env.fail(&["ts", "import", "missing.xml"], &["missing.xml"]);
    env.fail(&["cert", "import", "missing.pem"], &["missing.pem"]);
    // A package whose recorded source has been removed cannot be refreshed from it.
    std::fs::remove_dir_all(env.path("tools")).unwrap();
    env.fail(&["package", "update", "LAB00001"], &["LAB00001", "tools"]);
}

#[test]
fn images_must_be_wims_with_the_index_asked_for() {
    let env = populated();
    env.write("notawim.wim", b"this is plain text, not a Windows image");
    env.write("folder/file.txt", b"x");
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            "X",
            "notawim.wim",
        ],
        &["notawim.wim", "not a WIM"],
    );
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "os-image",
            "--name",
            "X",
            "notawim.wim",
        ],
        &["notawim.wim", "not a WIM"],
    );
    env.fail(
        &[
            "package", "add", "--type", "os-image", "--name", "X", "folder",
        ],
        &["folder", "not a WIM"],
    );
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            "X",
            "boot.wim",
            "--image-index",
            "2",
        ],
        &["boot.wim", "no image 2"],
    );
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "boot-image",
            "--name",
            "X",
            "boot.wim",
            "--image-index",
            "0",
        ],
        &["boot.wim", "no image 0"],
    );
    // Updating an image package with something that is not a WIM.
    env.fail(
        &["package", "update", "LAB00002", "notawim.wim"],
        &["notawim.wim", "not a WIM"],
    );
    // Options that belong to boot images only.
    env.fail(
        &[
            "package",
            "add",
            "--type",
            "package",
            "--name",
            "X",
            "folder",
            "--image-index",
            "1",
        ],
        &["boot images"],
    );
}

#[test]
fn bad_values_are_refused() {
    let env = populated();
    let cases: &[(&[&str], &[&str])] = &[
        (&["dp", "add", "dp2", "--url", "ftp://dp2"], &["ftp://dp2"]),
        (
            &["dp", "add", "bad name", "--url", "http://dp2"],
            &["bad name"],
        ),
        (
            &[
                "mp",
                "add",
                "mp2",
                "--url",
                "http://mp2",
                "--boundary",
                "10.0.0.0/40",
            ],
            &["10.0.0.0/40"],
        ),
        (
            &[
                "computer",
                "import",
                "--name",
                "PC3",
                "--smbios-guid",
                "xyz",
                "--mac",
                "00:11:22:33:44:77",
            ],
            &["xyz"],
        ),
        (
            &[
                "computer",
                "import",
                "--name",
                "PC3",
                "--smbios-guid",
                "31111111-2222-3333-4444-555555555555",
                "--mac",
                "00:11",
            ],
            &["00:11"],
        ),
        (
            &[
                "computer",
                "import",
                "--name",
                "THIS-NAME-IS-TOO-LONG",
                "--smbios-guid",
                "31111111-2222-3333-4444-555555555555",
                "--mac",
                "00:11:22:33:44:77",
            ],
            &["THIS-NAME-IS-TOO-LONG"],
        ),
        (
            &["collection", "set-var", "Lab", "_SMSTSMediaType=x"],
            &["_SMSTSMediaType", "read-only"],
        ),
        (&["collection", "set-var", "Lab", "novalue"], &["novalue"]),
        (
            &[
                "collection",
                "add-member",
                "All Systems",
                "--computer",
                "PC1",
            ],
            &["SMS00001", "built-in"],
        ),
        (
            &[
                "content",
                "distribute",
                "LAB00001",
                "--dp",
                "dp1",
                "LAB0DEAD",
            ],
            &["LAB0DEAD"],
        ),
    ];
    for (args, names) in cases {
        env.fail(args, names);
    }
    env.write("broken.xml", b"<sequence><group name=\"x\"></sequence>");
    env.fail(&["ts", "import", "broken.xml"], &["broken"]);
    env.write(
        "notcert.pem",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    env.fail(&["cert", "import", "notcert.pem"], &["notcert.pem"]);
    // Command-line errors (clap) exit 2.
    for args in [
        &["package", "add", "--type", "floppy", "--name", "X", "tools"][..],
        &[
            "deploy",
            "LAB00003",
            "--collection",
            "Lab",
            "--availability",
            "everyone",
        ][..],
        &[
            "package", "add", "--type", "package", "--name", "X", "tools", "--arch", "mips",
        ][..],
    ] {
        let out = env.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
