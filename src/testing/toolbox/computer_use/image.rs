//! The simulator's screenshots: real, small grey images, PNG (with the
//! pointer drawn when asked) or JPEG (plain grey), of any size. No image
//! crate: PNG is written with stored (uncompressed) deflate blocks, JPEG as
//! a baseline grey image whose blocks all have the same value.

/// The grey of the simulated screen.
const GREY: u8 = 0xC0;

/// A CRC-32 (IEEE) table, as PNG chunks need.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for part in parts {
        for &b in *part {
            c = CRC_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8);
        }
    }
    !c
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// A `width` × `height` 8-bit grey PNG, with a black cross at `cursor`
/// (in image pixels) when given.
pub(crate) fn png(width: u32, height: u32, cursor: Option<(i64, i64)>) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    // Each row: filter type 0, then the pixels.
    let mut raw = vec![GREY; (w + 1) * h];
    for row in 0..h {
        raw[row * (w + 1)] = 0;
    }
    if let Some((cx, cy)) = cursor {
        let mut dark = |x: i64, y: i64| {
            if (0..width.into()).contains(&x) && (0..height.into()).contains(&y) {
                raw[y as usize * (w + 1) + 1 + x as usize] = 0;
            }
        };
        for d in -6..=6 {
            dark(cx + d, cy);
            dark(cx, cy + d);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(0xFFFF).collect();
    for (i, block) in blocks.iter().enumerate() {
        let len = block.len() as u16;
        zlib.push(u8::from(i + 1 == blocks.len()));
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // 8 bits, grey, deflate, no filter choice, no interlace.
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A `width` × `height` baseline grey JPEG (mid grey: every 8 × 8 block's
/// DC value is 0, and each block is coded as two one-bit codes).
pub(crate) fn jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    // JFIF header, 1:1 pixels.
    out.extend_from_slice(&[
        0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ]);
    // One quantization table of ones.
    out.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    out.extend_from_slice(&[1; 64]);
    // Baseline frame: 8 bits, the size, one component (1×1, table 0).
    out.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 8]);
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[1, 1, 0x11, 0]);
    // Huffman tables with one one-bit code each: DC category 0, AC EOB.
    for class in [0x00, 0x10] {
        out.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, class, 1]);
        out.extend_from_slice(&[0; 15]);
        out.push(0);
    }
    // Scan of the one component.
    out.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 63, 0]);
    let blocks = usize::from(width).div_ceil(8) * usize::from(height).div_ceil(8);
    let bits = blocks * 2;
    let mut data = vec![0u8; bits.div_ceil(8)];
    if bits % 8 != 0 {
        // Pad the last byte with ones.
        if let Some(last) = data.last_mut() {
            *last = 0xFF >> (bits % 8);
        }
    }
    out.extend_from_slice(&data);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_known_values() {
        assert_eq!(crc32(&[b"IEND"]), 0xAE42_6082);
        assert_eq!(crc32(&[b"123456789"]), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn png_header_and_size() {
        let img = png(300, 200, Some((10, 10)));
        assert!(img.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(&img[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(img[16..20].try_into().unwrap()), 300);
        assert_eq!(u32::from_be_bytes(img[20..24].try_into().unwrap()), 200);
        assert!(img.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]));
        // Larger than one stored block.
        assert!(png(1024, 768, None).len() > 1024 * 768);
    }

    #[test]
    fn jpeg_header_and_size() {
        let img = jpeg(17, 9);
        assert!(img.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]));
        assert!(img.ends_with(&[0xFF, 0xD9]));
        let sof = img.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        assert_eq!(&img[sof + 5..sof + 9], &[0, 9, 0, 17]);
    }
}
