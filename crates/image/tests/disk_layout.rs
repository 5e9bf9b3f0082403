//! Multi-partition tables (Format and Partition Disk) checked by sgdisk and sfdisk.

mod fat_support;

use fat_support::tool_ok;
use tsmedia_image::disk::{
    PartitionFs, PartitionPlan, PartitionPlanOptions, PartitionRole, PartitionSize, PartitionSpec,
    PartitionTable, read_partition_table,
};

fn spec(role: PartitionRole, size: PartitionSize, fs: PartitionFs, name: &str) -> PartitionSpec {
    PartitionSpec {
        role,
        size,
        fs,
        name: name.into(),
        bootable: false,
    }
}

fn uefi() -> Vec<PartitionSpec> {
    use PartitionFs::*;
    use PartitionRole::*;
    use PartitionSize::*;
    vec![
        spec(Efi, Mib(100), Fat32, "EFI"),
        spec(Msr, Mib(16), None, ""),
        spec(Primary, Percent(90), Ntfs, "Windows"),
        spec(Recovery, Percent(100), Ntfs, "Recovery"),
    ]
}

#[test]
fn uefi_layout_is_what_sgdisk_reads() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("disk.img");
    let f = std::fs::File::create(&img).unwrap();
    f.set_len(2 << 30).unwrap();
    let plan = PartitionPlan::new(
        PartitionTable::Gpt,
        2 << 30,
        &uefi(),
        &PartitionPlanOptions { guid_seed: Some(9) },
    )
    .unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
    plan.write_tables(&mut f).unwrap();
    drop(f);
    assert_eq!(std::fs::metadata(&img).unwrap().len(), 2 << 30);

    let verify = tool_ok("sgdisk", "gdisk", &["-v", img.to_str().unwrap()]);
    assert!(verify.contains("No problems found"), "{verify}");
    let print = tool_ok("sgdisk", "gdisk", &["-p", img.to_str().unwrap()]);
    for (i, p) in plan.partitions.iter().enumerate() {
        let code = ["EF00", "0C01", "0700", "2700"][i];
        let line = print
            .lines()
            .find(|l| l.split_whitespace().next() == Some(&(i + 1).to_string()))
            .unwrap_or_else(|| panic!("no partition {}:\n{print}", i + 1));
        let w: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(w[1], p.first_lba.to_string(), "{line}");
        assert_eq!(w[2], (p.first_lba + p.sectors - 1).to_string(), "{line}");
        assert_eq!(w[5], code, "{line}");
    }
    let info = tool_ok("sgdisk", "gdisk", &["-i", "3", img.to_str().unwrap()]);
    let guid = plan.partitions[2].guid.unwrap().to_string();
    assert!(info.contains(&guid), "{guid} not in:\n{info}");
    assert!(info.contains("'Windows'"), "{info}");
    let rec = tool_ok("sgdisk", "gdisk", &["-A", "4:show", img.to_str().unwrap()]);
    assert!(rec.contains("4:0:") && rec.contains("4:63:"), "{rec}");

    // Our reader agrees.
    let mut f = std::fs::File::open(&img).unwrap();
    let layout = read_partition_table(&mut f).unwrap();
    assert_eq!(layout.partitions.len(), 4);
    assert_eq!(layout.disk_guid, plan.disk_guid);
    assert_eq!(layout.partitions[2].guid, plan.partitions[2].guid);
}

#[test]
fn mbr_layout_is_what_sfdisk_reads() {
    use PartitionFs::*;
    use PartitionRole::*;
    use PartitionSize::*;
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("mbr.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let plan = PartitionPlan::new(
        PartitionTable::Mbr,
        1 << 30,
        &[
            spec(Primary, Mib(300), Fat32, ""),
            spec(Primary, Percent(100), Ntfs, ""),
        ],
        &PartitionPlanOptions { guid_seed: Some(4) },
    )
    .unwrap();
    let mut f = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
    plan.write_tables(&mut f).unwrap();
    drop(f);
    let dump = tool_ok("sfdisk", "fdisk", &["-d", img.to_str().unwrap()]);
    assert!(dump.contains("label: dos"), "{dump}");
    assert!(
        dump.contains(&format!("label-id: 0x{:08x}", plan.disk_signature)),
        "{dump}"
    );
    assert!(
        dump.contains("start=        2048, size=      614400, type=c, bootable"),
        "{dump}"
    );
    assert!(
        dump.contains("start=      616448, size=     1480704, type=7"),
        "{dump}"
    );
}
