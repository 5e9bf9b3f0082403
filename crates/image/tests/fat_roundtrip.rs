//! Random trees written as FAT volumes and read back by mtools must give back every file,
//! byte for byte, and fsck.fat must accept the volume.

mod fat_support;

use std::collections::{BTreeMap, HashSet};

use fat_support::{data, fsck_fat, mcopy_all};
use proptest::prelude::*;
use tsmedia_image::fat::{FatOptions, FatTree, FatType};

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9é日_~-][a-zA-Z0-9é日 _.~-]{0,30}[a-zA-Z0-9é日_~-]|[A-Z0-9]{1,8}(\\.[A-Z0-9]{1,3})?"
}

fn tree_spec() -> impl Strategy<Value = Vec<(Vec<String>, usize)>> {
    prop::collection::vec((prop::collection::vec(name(), 1..4), 0usize..6000), 1..30)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_round_trip_through_mtools(
        spec in tree_spec(),
        fat_type in prop::sample::select(vec![None, Some(FatType::Fat16), Some(FatType::Fat32)]),
        cluster in prop::sample::select(vec![None, Some(512u32), Some(2048), Some(8192)]),
    ) {
        let mut tree = FatTree::new();
        let mut expected = BTreeMap::new();
        let mut taken: HashSet<String> = HashSet::new();
        let mut dirs: HashSet<String> = HashSet::new();
        'entries: for (i, (parts, size)) in spec.iter().enumerate() {
            // Skip paths that clash (case-insensitively) with an earlier file or directory.
            for depth in 1..=parts.len() {
                let prefix = parts[..depth].join("/").to_uppercase();
                let is_last = depth == parts.len();
                if (is_last && (taken.contains(&prefix) || dirs.contains(&prefix)))
                    || (!is_last && taken.contains(&prefix))
                {
                    continue 'entries;
                }
            }
            for depth in 1..parts.len() {
                dirs.insert(parts[..depth].join("/").to_uppercase());
            }
            let path = parts.join("/");
            taken.insert(path.to_uppercase());
            let bytes = data(i as u64, *size);
            tree.add_file(&path, bytes.len() as u64, bytes.clone()).unwrap();
            expected.insert(path, bytes);
        }
        let plan = tree
            .plan(&FatOptions { fat_type, cluster_size: cluster, ..FatOptions::default() })
            .unwrap();
        let mut image = Vec::new();
        plan.write(&mut image).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vol.img");
        std::fs::write(&path, &image).unwrap();
        let bits = match plan.fat_type() {
            FatType::Fat12 => 12,
            FatType::Fat16 => 16,
            FatType::Fat32 => 32,
        };
        fsck_fat(&path, bits);
        let extracted = mcopy_all(path.to_str().unwrap(), &dir.path().join("out"));
        for (p, bytes) in &expected {
            prop_assert_eq!(extracted.get(p), Some(&Some(bytes.clone())), "{}", p);
        }
        let files = extracted.values().filter(|v| v.is_some()).count();
        prop_assert_eq!(files, expected.len());
    }
}
