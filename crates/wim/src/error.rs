//! The error type of every WIM operation.
//!
//! Each variant names what is wrong and carries the context to find it (the offset, index,
//! image, path or hash). A variant prints either its own context and leaves the cause to
//! [`std::error::Error::source`] (`Io`, `Decode`, `Xml`, `Codec`), or is self-contained and has no
//! source: never both, so a caller printing the whole chain shows each cause once.

use crate::sha1::Sha1;
use std::io;
use std::path::PathBuf;

/// What went wrong, with enough context to find the byte, blob, image or path at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing `path` failed; the cause is the source.
    #[error("{}", path.display())]
    Io {
        /// The file or folder being read or written.
        path: PathBuf,
        /// What the operating system reported.
        source: io::Error,
    },

    // --- Not a WIM, or a WIM we do not read ---
    /// The file is shorter than the 208-byte WIM header.
    #[error("not a WIM file: file is {len} bytes, shorter than a WIM header")]
    TooShort {
        /// The file's length in bytes.
        len: u64,
    },
    /// The file does not start with the `MSWIM\0\0\0` magic.
    #[error("not a WIM file: no MSWIM magic at offset 0 (found {found:02x?})")]
    NotWim {
        /// The first 8 bytes of the file.
        found: [u8; 8],
    },
    /// A WIM read from a pipe that is not a wimlib pipable WIM (`WLPWM` magic): only those
    /// can be read sequentially.
    #[error("not a pipable WIM: only a WIM captured with --pipable can be read from a pipe")]
    Pipable,
    /// A pipable WIM whose stream is not laid out as wimlib writes it.
    #[error("invalid pipable WIM at offset {offset:#x}: {reason}")]
    BadPipable {
        /// Where in the stream.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// A header version other than the two Microsoft defines (0x10d00 and 0xe00 for solid).
    #[error("unsupported WIM feature: WIM version {version:#x}")]
    UnsupportedVersion {
        /// The header's version field.
        version: u32,
    },

    // --- Inconsistent header ---
    /// The header's size field is not 208.
    #[error("invalid WIM header: header size {found}, expected 208")]
    HeaderSize {
        /// The size the header claims.
        found: u32,
    },
    /// The part number is 0 or larger than the part count.
    #[error("invalid WIM header: part {part} of {total}")]
    PartNumber {
        /// The header's part number.
        part: u16,
        /// The header's part count.
        total: u16,
    },
    /// The boot index names an image the WIM does not have.
    #[error("invalid WIM header: boot index {boot_index} but only {images} images")]
    BootIndex {
        /// The header's 1-based boot index.
        boot_index: u32,
        /// The header's image count.
        images: u32,
    },
    /// The COMPRESSION flag is set with no compression type, or with several.
    #[error("invalid WIM header: flags {flags:#x} name {count} compression types, expected one")]
    CompressionFlags {
        /// The header's flags.
        flags: u32,
        /// How many compression-type flags are set.
        count: usize,
    },
    /// The blob table's offset plus size overflows 64 bits.
    #[error("invalid WIM header: blob table at {offset:#x} of {size} bytes ends past 2^64")]
    BlobTableEnd {
        /// The blob table's offset.
        offset: u64,
        /// The blob table's stored size.
        size: u64,
    },
    /// The header and the XML data disagree on the number of images.
    #[error("invalid WIM header: header says {header} images but the XML describes {xml}")]
    XmlImageCount {
        /// The header's image count.
        header: u32,
        /// `<IMAGE>` elements in the XML data.
        xml: u32,
    },
    /// The header and the blob table disagree on the number of images.
    #[error(
        "invalid WIM header: header says {header} images but the blob table has {metadata} metadata resources"
    )]
    MetadataCount {
        /// The header's image count.
        header: u32,
        /// Metadata resources in the blob table.
        metadata: usize,
    },

    // --- Corrupt structures ---
    /// A resource (header, chunk table or data) at `offset` is inconsistent.
    #[error("resource at offset {offset:#x}: {reason}")]
    BadResource {
        /// The resource's offset in its part.
        offset: u64,
        /// What is inconsistent.
        reason: ResourceFault,
    },
    /// Entry `index` of the blob table is inconsistent.
    #[error("blob table entry {index} at offset {offset:#x}: {reason}")]
    BadBlobEntry {
        /// The entry's 0-based index in the table.
        index: usize,
        /// The entry's offset in its part.
        offset: u64,
        /// What is inconsistent.
        reason: ResourceFault,
    },
    /// A blob an image refers to is in none of the parts given.
    #[error(
        "blob {sha1}{} is missing (is a part of a split WIM missing? pass --ref)",
        needed_by(user)
    )]
    MissingBlob {
        /// The missing blob's SHA-1.
        sha1: Sha1,
        /// What refers to it (`/d/f.txt`, `image 2`), when known.
        user: Option<String>,
    },
    /// A blob's data does not hash to its SHA-1.
    #[error(
        "blob {sha1}{}: data hashes to {actual}: the WIM is corrupt",
        needed_by(user)
    )]
    HashMismatch {
        /// The SHA-1 the blob table promises.
        sha1: Sha1,
        /// What refers to the blob, when known.
        user: Option<String>,
        /// The SHA-1 of the data read.
        actual: Sha1,
    },
    /// A chunk of a compressed resource does not decompress; the codec's reason is the source.
    #[error("chunk {chunk} of the resource at offset {offset:#x} does not decompress")]
    Decode {
        /// The resource's offset in its part.
        offset: u64,
        /// The 0-based chunk index.
        chunk: u64,
        /// The decoder's error.
        source: tsmedia_codecs::DecodeError,
    },
    /// An image's metadata resource (security data or dentries) is inconsistent.
    #[error("image {image} metadata at byte {offset:#x}: {reason}")]
    BadMetadata {
        /// The 1-based image index.
        image: u32,
        /// The byte offset in the uncompressed metadata resource.
        offset: u64,
        /// What is inconsistent.
        reason: MetadataFault,
    },
    /// The XML data is not UTF-16LE text.
    #[error("XML data: {len} bytes are not UTF-16LE text")]
    XmlEncoding {
        /// The XML data's length in bytes.
        len: usize,
    },
    /// The XML data does not parse; the parser's error is the source.
    #[error("XML data")]
    Xml {
        /// The XML parser's error.
        source: roxmltree::Error,
    },
    /// The XML data's root element is not `<WIM>`.
    #[error("XML data: root element is <{found}>, not <WIM>")]
    XmlRoot {
        /// The root element's name.
        found: String,
    },
    /// The XML data nests elements deeper than we follow.
    #[error("XML data: elements nested deeper than {limit} levels")]
    XmlDepth {
        /// The deepest nesting read.
        limit: usize,
    },
    /// A chunk of the integrity table does not match the file.
    #[error("integrity check failed: chunk {chunk} (bytes {start:#x}..{end:#x}) does not match")]
    Integrity {
        /// The 0-based chunk index.
        chunk: u32,
        /// The chunk's first byte in the file.
        start: u64,
        /// The byte after the chunk's last.
        end: u64,
    },

    // --- Images and arguments ---
    /// No image with this 1-based index.
    #[error("no image {index} in this WIM (it has {count} images)")]
    NoSuchImage {
        /// The index asked for.
        index: u32,
        /// The WIM's image count.
        count: u32,
    },
    /// No image with this name.
    #[error("no image named {name:?} in this WIM")]
    NoImageNamed {
        /// The name asked for.
        name: String,
    },
    /// An image of this name already exists in the WIM being appended to.
    #[error("an image named {name:?} already exists in {}", wim.display())]
    DuplicateImageName {
        /// The name.
        name: String,
        /// The WIM.
        wim: PathBuf,
    },
    /// An operation the arguments make impossible (an export name for several images,
    /// `--boot` with no bootable image, another compression for an existing WIM, ...).
    #[error("{reason}")]
    Refused {
        /// What was refused and why.
        reason: String,
    },
    /// An update names a path that the image does not have.
    #[error("{path}: no such path in image {image}")]
    NoSuchPath {
        /// The path inside the image, as given.
        path: String,
        /// The 1-based image index.
        image: u32,
    },
    /// An update would add under something that is not a directory.
    #[error("{path}: a parent is not a directory")]
    ParentNotDirectory {
        /// The path inside the image, as given.
        path: String,
    },
    /// An update would delete the root, or replace it with a file.
    #[error("the root of an image can only be replaced by a directory, never deleted")]
    Root,
    /// An image path uses `.` or `..`.
    #[error("{path}: '.' and '..' are not allowed in image paths")]
    DotInImagePath {
        /// The path inside the image, as given.
        path: String,
    },
    /// A chunk size the compression format cannot use.
    #[error(
        "chunk size {chunk_size} is not valid for {format} (a power of two from {min} to {max})"
    )]
    ChunkSize {
        /// The chunk size asked for.
        chunk_size: usize,
        /// The compression format.
        format: tsmedia_codecs::Format,
        /// The smallest valid size.
        min: usize,
        /// The largest valid size.
        max: usize,
    },
    /// A boot index past the images written.
    #[error("boot index {boot_index} but the WIM has {images} images")]
    BootIndexOutOfRange {
        /// The 1-based boot index asked for.
        boot_index: u32,
        /// The images written.
        images: u32,
    },

    // --- Unsafe names, changed sources ---
    /// A name or existing file that would make apply write outside its target.
    #[error("{path}: {reason}")]
    Unsafe {
        /// The path at fault (`image N: /a/b` inside an image, or a target path).
        path: String,
        /// Why it is refused.
        reason: String,
    },
    /// A file being captured cannot be stored as it is (changed while read, name not UTF-8).
    #[error("{}: {reason}", path.display())]
    Source {
        /// The source file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    // --- Split WIMs ---
    /// Parts of a split WIM are missing.
    #[error(
        "split WIM: part(s) {} of {total} missing: give them with --ref",
        list(missing)
    )]
    MissingParts {
        /// The missing 1-based part numbers.
        missing: Vec<u16>,
        /// The part count.
        total: u16,
    },
    /// A part given belongs to another split WIM.
    #[error("split WIM: {} belongs to another WIM (GUID differs)", path.display())]
    OtherWim {
        /// The part.
        path: PathBuf,
    },
    /// None of the parts given is part 1.
    #[error("split WIM: none of the parts given is part 1")]
    NoFirstPart,
    /// Solid resources cannot be cut into parts.
    #[error("split WIM: WIMs with solid resources cannot be split")]
    SolidSplit,
    /// A split would need more parts than a header can number.
    #[error("split WIM: {parts} parts needed, more than the 65,535 a WIM header can number")]
    TooManyParts {
        /// The parts the plan needs.
        parts: usize,
    },

    // --- Compression, cancel ---
    /// A compression thread failed; the codec's error is the source.
    #[error("compression")]
    Codec(#[from] tsmedia_codecs::CodecError),
    /// A compression thread stopped without a result.
    #[error("a compression thread stopped unexpectedly")]
    CompressionThread,
    /// The cancel flag was set.
    #[error("operation cancelled")]
    Cancelled,
}

/// Why a resource ([`Error::BadResource`]) or a blob table entry ([`Error::BadBlobEntry`]) is
/// inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceFault {
    /// Offset plus stored size does not fit in 64 bits.
    #[error("offset + size overflows")]
    OffsetOverflow,
    /// A read runs past the end of the part file.
    #[error(
        "{bytes} bytes run past the end of {} ({file_len:#x} bytes): truncated file?",
        file.display()
    )]
    PastEnd {
        /// How many bytes were to be read.
        bytes: u64,
        /// The part file.
        file: PathBuf,
        /// The part file's length.
        file_len: u64,
    },
    /// A resource runs past the end of its part file.
    #[error(
        "resource of {stored} bytes runs past the end of {} ({file_len:#x} bytes)",
        file.display()
    )]
    ResourcePastEnd {
        /// The resource's stored size.
        stored: u64,
        /// The part file.
        file: PathBuf,
        /// The part file's length.
        file_len: u64,
    },
    /// A blob table entry's resource runs past the end of its part.
    #[error("resource {start:#x}..{end:#x} runs past the end of the file ({file_len:#x})")]
    EntryPastEnd {
        /// The resource's first byte.
        start: u64,
        /// The byte after its last.
        end: u64,
        /// The part file's length.
        file_len: u64,
    },
    /// An uncompressed resource whose stored and uncompressed sizes differ.
    #[error("uncompressed resource has stored size {stored} but size {size}")]
    SizesDiffer {
        /// The stored size.
        stored: u64,
        /// The uncompressed size.
        size: u64,
    },
    /// A compressed resource in a WIM whose header names no compression.
    #[error("compressed resource in an uncompressed WIM")]
    CompressedInUncompressedWim,
    /// The WIM's chunk size is not valid for its compression format.
    #[error("invalid chunk size {chunk_size} for {format}")]
    ChunkSize {
        /// The header's chunk size.
        chunk_size: u32,
        /// The header's compression format.
        format: tsmedia_codecs::Format,
    },
    /// The chunk table would be larger than the resource holding it.
    #[error("chunk table of {table_len} bytes is larger than the resource ({stored})")]
    ChunkTableTooLarge {
        /// The chunk table's size.
        table_len: u64,
        /// The resource's stored size.
        stored: u64,
    },
    /// The chunk table's offsets decrease.
    #[error("chunk table runs backwards at chunk {chunk}")]
    ChunkTableBackwards {
        /// The 0-based chunk whose start precedes the one before.
        chunk: usize,
    },
    /// A chunk's stored size is zero or larger than its uncompressed size.
    #[error("chunk {chunk} has stored size {stored} for {len} bytes")]
    ChunkStoredSize {
        /// The 0-based chunk index.
        chunk: usize,
        /// Its stored size.
        stored: u64,
        /// Its uncompressed size.
        len: u64,
    },
    /// A chunk of an uncompressed resource is stored shorter than its data.
    #[error("chunk {chunk} is shorter than its data in an uncompressed resource")]
    ShortUncompressedChunk {
        /// The 0-based chunk index.
        chunk: u64,
    },
    /// A solid resource shorter than its 16-byte header.
    #[error("solid resource shorter than its header")]
    SolidHeaderShort,
    /// A solid resource header names an unknown compression format.
    #[error("unknown solid compression format {0}")]
    SolidFormat(u32),
    /// A solid resource header's chunk size is zero, not a power of two, or over 1 GiB.
    #[error("invalid solid chunk size {0}")]
    SolidChunkSize(u64),
    /// A solid resource's chunk table is larger than the resource.
    #[error("solid chunk table larger than the resource")]
    SolidChunkTableTooLarge,
    /// A solid resource's chunk sizes do not add up to its stored size.
    #[error("solid chunk sizes do not add up to the resource size")]
    SolidSizes,
    /// A solid blob's range lies outside its run of solid resources.
    #[error("solid blob of {len} bytes at {offset:#x} lies outside its run ({run} bytes)")]
    OutsideSolidRun {
        /// The blob's size.
        len: u64,
        /// Its offset in the run.
        offset: u64,
        /// The run's uncompressed size.
        run: u64,
    },
    /// A blob table entry of a solid blob with no solid resource entry before it.
    #[error("solid blob without a preceding solid resource entry")]
    SolidWithoutRun,
    /// A resource read whole into memory claims more than we hold in memory.
    #[error("{what} claims {size} bytes")]
    TooLarge {
        /// The resource (`XML data`, `blob table`, `metadata resource`).
        what: &'static str,
        /// Its claimed uncompressed size.
        size: u64,
    },
    /// The blob table's size is not a whole number of 50-byte entries.
    #[error("blob table of {0} bytes is not a multiple of 50")]
    BlobTableSize(usize),
    /// The integrity table is shorter than its 12-byte header.
    #[error("integrity table: shorter than its header")]
    IntegrityHeaderShort,
    /// The integrity table's size, entry count and chunk size disagree.
    #[error("integrity table: inconsistent size")]
    IntegritySize,
    /// The integrity table has a different number of entries than the file has chunks.
    #[error("integrity table: {entries} entries for {chunks} chunks")]
    IntegrityCount {
        /// Entries in the table.
        entries: usize,
        /// Chunks the file has.
        chunks: u64,
    },
}

/// Why an image's metadata resource ([`Error::BadMetadata`]) is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataFault {
    /// The resource is shorter than the 8-byte security data header.
    #[error("metadata resource shorter than its security data header")]
    SecurityHeaderShort,
    /// The security data's size and entry count do not fit the resource.
    #[error("security data of {total} bytes with {count} entries does not fit")]
    SecurityDataFit {
        /// The security data's stated size.
        total: u64,
        /// Its descriptor count.
        count: u64,
    },
    /// A security descriptor runs past the security data.
    #[error("security descriptor {index} of {size} bytes runs past the security data")]
    DescriptorPastEnd {
        /// The 0-based descriptor index.
        index: usize,
        /// Its stated size.
        size: u64,
    },
    /// No root dentry.
    #[error("no root dentry")]
    NoRoot,
    /// The root dentry has a name.
    #[error("the root dentry has a name")]
    RootNamed,
    /// The root dentry is not a directory.
    #[error("the root is not a directory")]
    RootNotDirectory,
    /// A dentry list runs past the end of the metadata.
    #[error("dentry list runs past the end of the metadata")]
    DentryListPastEnd,
    /// A dentry's length is below the fixed size or past the end of the metadata.
    #[error("dentry length {0} is invalid")]
    DentryLength(u64),
    /// A dentry's name length is odd (names are UTF-16LE).
    #[error("odd name length")]
    OddNameLength,
    /// A dentry's name runs past the dentry.
    #[error("name runs past the dentry")]
    NamePastDentry,
    /// An extra stream entry runs past the end of the metadata.
    #[error("stream entry runs past the end of the metadata")]
    StreamPastEnd,
    /// An extra stream entry's length is invalid.
    #[error("stream entry length {0} is invalid")]
    StreamLength(u64),
    /// An extra stream entry's name runs past the entry.
    #[error("stream name runs past its entry")]
    StreamNamePastEntry,
    /// The directory tree nests deeper than we follow.
    #[error("directory tree deeper than {0} levels")]
    TooDeep(usize),
    /// A directory's children are listed twice (a cycle).
    #[error("cyclic directory tree: children at {0:#x} listed twice")]
    Cycle(u64),
    /// A subdirectory offset does not fit in memory offsets.
    #[error("subdir offset too large")]
    SubdirOffset,
    /// Dentry lists overlap: more dentries than the metadata can hold.
    #[error("dentry lists overlap: more dentries than the metadata can hold")]
    ListsOverlap,
    /// A directory entry without a name.
    #[error("unnamed entry in directory {0:?}")]
    Unnamed(String),
    /// Two entries of one directory have the same name.
    #[error("duplicate name {0:?} in one directory")]
    DuplicateName(String),
    /// A symbolic link's reparse data cannot be read.
    #[error("{path}: {reason}")]
    SymlinkData {
        /// The link's path in the image.
        path: String,
        /// What is wrong with its reparse data.
        reason: String,
    },
}

fn needed_by(user: &Option<String>) -> String {
    user.as_ref().map(|u| format!(" ({u})")).unwrap_or_default()
}

fn list(parts: &[u16]) -> String {
    let v: Vec<String> = parts.iter().map(u16::to_string).collect();
    v.join(", ")
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches a path to an `io::Error`.
pub(crate) trait IoContext<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl Into<PathBuf>) -> Result<T> {
        self.map_err(|source| Error::Io {
            path: path.into(),
            source,
        })
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        match e {
            Error::Io { source, .. } => source,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}

#[cfg(test)]
mod tests;

impl Error {
    /// What kind of failure this is, for exit codes: a missing image, path, blob or part is
    /// not found; a name leaving the target is refused; an option the operation refuses and
    /// failures that are not the input's fault are failures; anything else (not a WIM,
    /// unsupported, corrupt, cannot be split) is invalid input.
    pub fn class(&self) -> tsmedia_base::ErrorClass {
        use tsmedia_base::ErrorClass;
        match self {
            Error::Cancelled => ErrorClass::Cancelled,
            Error::NoSuchImage { .. }
            | Error::NoImageNamed { .. }
            | Error::NoSuchPath { .. }
            | Error::MissingBlob { .. }
            | Error::MissingParts { .. }
            | Error::OtherWim { .. }
            | Error::NoFirstPart => ErrorClass::NotFound,
            Error::Unsafe { .. } => ErrorClass::Refused,
            Error::Io { source, .. } => ErrorClass::of_io(source),
            Error::Source { .. }
            | Error::DuplicateImageName { .. }
            | Error::Refused { .. }
            | Error::ParentNotDirectory { .. }
            | Error::Root
            | Error::DotInImagePath { .. }
            | Error::ChunkSize { .. }
            | Error::BootIndexOutOfRange { .. }
            | Error::Codec(_)
            | Error::CompressionThread => ErrorClass::Failure,
            _ => ErrorClass::InvalidInput,
        }
    }
}
