//! Prints the tree and references of a task sequence XML file: `cargo run --example ts_render FILE`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: ts_render FILE")?;
    let ts = tsmedia_tasksequence::TaskSequence::from_xml(&std::fs::read_to_string(path)?)?;
    print!("{}", ts.render_tree());
    for r in ts.references() {
        println!(
            "{:?} {} step={:?} via {:?}",
            r.kind, r.package_id, r.step, r.found_in
        );
    }
    Ok(())
}
