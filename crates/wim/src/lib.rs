//! Windows Imaging (WIM) format: reader, two-phase writer, capture and apply.
