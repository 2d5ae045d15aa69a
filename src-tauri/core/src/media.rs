//! Photos and signatures, made ready to travel over a slow link.
//!
//! A photo is decoded (JPEG, PNG or WebP), turned upright, downscaled to at
//! most 2048 px on its long edge and re-encoded as JPEG, with a 256 px
//! thumbnail. Re-encoding drops every metadata block; the camera's EXIF
//! (which holds the location) is carried over only when the user keeps it.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use outpost_sync::ids::ContentHash;

/// Largest photo file taken in (a 50-megapixel camera's JPEG is about 25 MB).
pub const MAX_PHOTO_BYTES: usize = 40 * 1024 * 1024;
/// Largest signature PNG taken in.
pub const MAX_SIGNATURE_BYTES: usize = 2 * 1024 * 1024;
pub const MAX_EDGE: u32 = 2048;
pub const THUMBNAIL_EDGE: u32 = 256;
const JPEG_QUALITY: u8 = 85;
const THUMBNAIL_QUALITY: u8 = 75;

/// The memory a photo's decoded pixels may take. A small file can claim an
/// enormous picture (a 3 MB JPEG of 201 megapixels would take about 1 GiB),
/// so the size its header states is checked against this before decoding.
/// 256 MiB holds a 64-megapixel photo at 4 bytes a pixel; a 50-megapixel
/// camera's photo is about 150 MiB as RGB.
pub const DECODE_BUDGET: u64 = 256 * 1024 * 1024;
/// The most pixels a photo may have, whatever its bytes per pixel.
pub const MAX_PIXELS: u64 = 64_000_000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("the file is {0} bytes; at most {MAX_PHOTO_BYTES} are accepted")]
    TooLarge(usize),
    #[error("the image is {width}×{height} pixels; at most {} megapixels are taken in", MAX_PIXELS / 1_000_000)]
    TooManyPixels { width: u32, height: u32 },
    #[error("the file is not a JPEG, PNG or WebP image")]
    UnsupportedFormat,
    #[error("the image cannot be read: {0}")]
    Corrupt(String),
    #[error("a signature must be a PNG image of at most {MAX_SIGNATURE_BYTES} bytes")]
    BadSignature,
}

/// A photo ready to store and send.
#[derive(Clone, Debug)]
pub struct PreparedPhoto {
    pub jpeg: Vec<u8>,
    pub thumbnail: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

pub fn content_hash(bytes: &[u8]) -> ContentHash {
    ContentHash(hex::encode(Sha256::digest(bytes)))
}

fn decode_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(DECODE_BUDGET);
    limits
}

/// Prepares a photo; `keep_location` carries the camera's EXIF (GPS included) over.
pub fn prepare_photo(bytes: &[u8], keep_location: bool) -> Result<PreparedPhoto, MediaError> {
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(MediaError::TooLarge(bytes.len()));
    }
    let format = image::guess_format(bytes).map_err(|_| MediaError::UnsupportedFormat)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) {
        return Err(MediaError::UnsupportedFormat);
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        // The decoder would fill the missing part with grey; a cut-off photo is refused instead.
        return Err(MediaError::Corrupt("the JPEG is cut short (no end-of-image marker)".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits());
    let corrupt = |e: image::ImageError| MediaError::Corrupt(e.to_string());
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS || decoder.total_bytes() > DECODE_BUDGET {
        return Err(MediaError::TooManyPixels { width, height });
    }
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let picture = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    // Shrink first, then turn: the turn then copies 4 megapixels, not 50,
    // and the decoded picture is freed before the encoding starts.
    let mut full = shrink(&picture, MAX_EDGE);
    drop(picture);
    full.apply_orientation(orientation);
    let kept_exif = exif.filter(|_| keep_location).map(|mut exif| {
        // The pixels are upright now; the kept EXIF must not turn them again.
        let _ = Orientation::remove_from_exif_chunk(&mut exif);
        exif
    });
    let jpeg = encode_jpeg(&full, JPEG_QUALITY, kept_exif)?;
    let thumbnail = encode_jpeg(&shrink(&full, THUMBNAIL_EDGE), THUMBNAIL_QUALITY, None)?;
    Ok(PreparedPhoto { jpeg, thumbnail, width: full.width(), height: full.height() })
}

/// Whether the last scan of a JPEG is followed by its end-of-image marker.
/// Inside scan data a 0xFF byte is always followed by 0x00 or a restart
/// marker, so 0xFFDA (start of scan) and 0xFFD9 (end) found there are real.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]);
    last_scan.is_some_and(|at| bytes[at..].windows(2).any(|w| w == [0xFF, 0xD9]))
}

fn shrink(picture: &DynamicImage, edge: u32) -> DynamicImage {
    if picture.width().max(picture.height()) <= edge {
        return picture.clone();
    }
    // Area averaging: no full-height intermediate buffer (a separable
    // filter would hold one in floats, about as large as the picture), and
    // a 12-megapixel photo's downscale stays well under a second.
    picture.thumbnail(edge, edge)
}

fn encode_jpeg(picture: &DynamicImage, quality: u8, exif: Option<Vec<u8>>) -> Result<Vec<u8>, MediaError> {
    let rgb = picture.to_rgb8();
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, quality);
    if let Some(exif) = exif {
        encoder.set_exif_metadata(exif).map_err(|e| MediaError::Corrupt(e.to_string()))?;
    }
    encoder
        .write_image(rgb.as_raw(), rgb.width(), rgb.height(), image::ExtendedColorType::Rgb8)
        .map_err(|e| MediaError::Corrupt(e.to_string()))?;
    Ok(out)
}

/// Checks that a signature drawn by the UI is a PNG that decodes.
pub fn check_signature(png: &[u8]) -> Result<(), MediaError> {
    if png.len() > MAX_SIGNATURE_BYTES || image::guess_format(png).ok() != Some(ImageFormat::Png) {
        return Err(MediaError::BadSignature);
    }
    let mut reader = ImageReader::with_format(Cursor::new(png), ImageFormat::Png);
    reader.limits(decode_limits());
    reader.decode().map(|_| ()).map_err(|e| MediaError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb, RgbImage};

    fn gradient(width: u32, height: u32) -> RgbImage {
        ImageBuffer::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]))
    }

    /// A TIFF-structured EXIF block with orientation 6 (rotate 90°) and a GPS IFD.
    fn exif_with_gps() -> Vec<u8> {
        let mut e = Vec::new();
        e.extend_from_slice(b"II*\0");
        e.extend_from_slice(&8u32.to_le_bytes());
        // IFD0: two entries, orientation and the GPS IFD pointer.
        e.extend_from_slice(&2u16.to_le_bytes());
        e.extend_from_slice(&0x0112u16.to_le_bytes());
        e.extend_from_slice(&3u16.to_le_bytes());
        e.extend_from_slice(&1u32.to_le_bytes());
        e.extend_from_slice(&6u32.to_le_bytes());
        e.extend_from_slice(&0x8825u16.to_le_bytes());
        e.extend_from_slice(&4u16.to_le_bytes());
        e.extend_from_slice(&1u32.to_le_bytes());
        e.extend_from_slice(&38u32.to_le_bytes());
        e.extend_from_slice(&0u32.to_le_bytes());
        // GPS IFD at 38: GPSLatitudeRef = "N".
        e.extend_from_slice(&1u16.to_le_bytes());
        e.extend_from_slice(&0x0001u16.to_le_bytes());
        e.extend_from_slice(&2u16.to_le_bytes());
        e.extend_from_slice(&2u32.to_le_bytes());
        e.extend_from_slice(b"N\0\0\0");
        e.extend_from_slice(&0u32.to_le_bytes());
        e
    }

    fn camera_jpeg(width: u32, height: u32) -> Vec<u8> {
        let picture = DynamicImage::ImageRgb8(gradient(width, height));
        encode_jpeg(&picture, 90, Some(exif_with_gps())).unwrap()
    }

    fn has_gps(jpeg: &[u8]) -> bool {
        jpeg.windows(2).any(|w| w == [0x25, 0x88])
    }

    #[test]
    fn a_large_photo_is_turned_upright_downscaled_and_stripped_of_its_location() {
        let input = camera_jpeg(3000, 2000);
        assert!(has_gps(&input), "the test photo carries a location");
        let photo = prepare_photo(&input, false).unwrap();
        // Orientation 6 means the camera was held upright: 2000 wide, 3000 high.
        assert_eq!((photo.width, photo.height), (1365, 2048));
        assert!(!has_gps(&photo.jpeg), "the location is gone");
        let read = image::load_from_memory(&photo.jpeg).unwrap();
        assert_eq!((read.width(), read.height()), (1365, 2048));
        let thumb = image::load_from_memory(&photo.thumbnail).unwrap();
        assert_eq!(thumb.width().max(thumb.height()), THUMBNAIL_EDGE);
    }

    #[test]
    fn a_kept_location_survives_but_the_orientation_is_not_applied_twice() {
        let photo = prepare_photo(&camera_jpeg(300, 200), true).unwrap();
        assert!(has_gps(&photo.jpeg), "the user asked to keep the location");
        let mut decoder =
            ImageReader::new(Cursor::new(&photo.jpeg)).with_guessed_format().unwrap().into_decoder().unwrap();
        assert_eq!(decoder.orientation().unwrap(), Orientation::NoTransforms);
        assert_eq!((photo.width, photo.height), (200, 300));
    }

    #[test]
    fn png_and_webp_photos_become_jpegs() {
        for format in [ImageFormat::Png, ImageFormat::WebP] {
            let mut bytes = Vec::new();
            DynamicImage::ImageRgb8(gradient(640, 480)).write_to(&mut Cursor::new(&mut bytes), format).unwrap();
            let photo = prepare_photo(&bytes, false).unwrap();
            assert_eq!(image::guess_format(&photo.jpeg).unwrap(), ImageFormat::Jpeg, "{format:?}");
            assert_eq!((photo.width, photo.height), (640, 480), "a small photo keeps its size");
        }
    }

    #[test]
    fn corrupt_unsupported_and_oversized_files_are_refused() {
        let mut truncated = camera_jpeg(400, 300);
        truncated.truncate(truncated.len() / 3);
        assert!(matches!(prepare_photo(&truncated, false), Err(MediaError::Corrupt(_))));
        assert_eq!(prepare_photo(b"GIF89a not really", false).unwrap_err(), MediaError::UnsupportedFormat);
        assert_eq!(prepare_photo(b"hello", false).unwrap_err(), MediaError::UnsupportedFormat);
        let huge = vec![0xFF; MAX_PHOTO_BYTES + 1];
        assert_eq!(prepare_photo(&huge, false).unwrap_err(), MediaError::TooLarge(MAX_PHOTO_BYTES + 1));
    }

    /// A 3 KB JPEG whose header claims 16000×12600 pixels (201.6 megapixels,
    /// about 600 MiB decoded) is refused from its header, before any pixel
    /// is decoded.
    #[test]
    fn a_small_file_claiming_a_huge_picture_is_refused_before_decoding() {
        let mut bomb = camera_jpeg(8, 8);
        let sof = bomb.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline JPEG has a SOF0 marker");
        bomb[sof + 5..sof + 7].copy_from_slice(&12_600u16.to_be_bytes());
        bomb[sof + 7..sof + 9].copy_from_slice(&16_000u16.to_be_bytes());
        assert!(bomb.len() < 4096);
        assert_eq!(
            prepare_photo(&bomb, false).unwrap_err(),
            MediaError::TooManyPixels { width: 16_000, height: 12_600 }
        );
        let fits = camera_jpeg(4_000, 3_000);
        assert!(prepare_photo(&fits, false).is_ok(), "a 12-megapixel photo is well within the budget");
    }

    #[test]
    fn a_signature_must_be_a_real_png() {
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(gradient(300, 100)).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        check_signature(&png).unwrap();
        assert_eq!(check_signature(&camera_jpeg(10, 10)).unwrap_err(), MediaError::BadSignature);
        assert!(matches!(check_signature(&png[..png.len() / 2]), Err(MediaError::Corrupt(_))));
    }
}
