//! hama's weight archive (`.hama`): named tensors, little-endian, each
//! 16-byte aligned after a table of names, types and shapes. The phone
//! recogniser's weights are stored in half precision; they are widened to
//! `f32` once, on load.

use std::collections::HashMap;

use half::f16;

const MAGIC: &[u8] = b"HAMAPK";

/// Element types the archive names by code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    F16,
}

/// One tensor, widened to `f32`, with its shape.
#[derive(Debug, Clone)]
pub(crate) struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Every floating-point tensor of an archive, by name.
#[derive(Debug)]
pub(crate) struct Package {
    tensors: HashMap<String, Tensor>,
}

/// Reads little-endian fields off the front of a byte slice.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| format!("the archive ends early (at byte {})", self.at))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

fn usize_of(n: u64) -> Result<usize, String> {
    usize::try_from(n).map_err(|_| format!("{n} does not fit this machine"))
}

impl Package {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut header = Reader { bytes, at: 0 };
        if header.take(MAGIC.len())? != MAGIC {
            return Err("not a hama weight archive (no HAMAPK header)".into());
        }
        let version = header.u8()?;
        if version != 1 {
            return Err(format!("archive version {version}, only 1 is known"));
        }
        let _kind = header.u8()?;
        let count = header.u32()?;
        let mut entries = Vec::new();
        for _ in 0..count {
            let name_len = usize::from(header.u16()?);
            let name = std::str::from_utf8(header.take(name_len)?)
                .map_err(|_| "a tensor name is not UTF-8".to_owned())?
                .to_owned();
            let dtype = header.u8()?;
            let rank = usize::from(header.u8()?);
            let shape = (0..rank)
                .map(|_| header.u32().and_then(|d| usize_of(u64::from(d))))
                .collect::<Result<Vec<usize>, String>>()?;
            let offset = usize_of(header.u64()?)?;
            let len = usize_of(header.u64()?)?;
            entries.push((name, dtype, shape, offset, len));
        }
        // The data follows the table, padded to 16 bytes.
        let data_start = header.at.next_multiple_of(16);
        let mut tensors = HashMap::new();
        for (name, code, shape, offset, len) in entries {
            let dtype = match code {
                0 => Dtype::F32,
                1 => Dtype::F16,
                // Integer tensors (shapes, indices) are not weights.
                _ => continue,
            };
            let start = data_start
                .checked_add(offset)
                .ok_or_else(|| format!("{name}: offset out of range"))?;
            let raw = Reader { bytes, at: start }.take(len)?;
            let elements: usize = shape.iter().product();
            let width = match dtype {
                Dtype::F32 => 4,
                Dtype::F16 => 2,
            };
            if elements.checked_mul(width) != Some(len) {
                return Err(format!(
                    "{name}: {len} bytes do not hold the shape {shape:?}"
                ));
            }
            let data = match dtype {
                Dtype::F32 => raw
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                Dtype::F16 => raw
                    .chunks_exact(2)
                    .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                    .collect(),
            };
            tensors.insert(name, Tensor { shape, data });
        }
        Ok(Self { tensors })
    }

    /// The length of the vector `name`.
    pub(crate) fn vector_len(&self, name: &str) -> Result<usize, String> {
        match self.tensors.get(name).map(|t| t.shape.as_slice()) {
            Some(&[len]) => Ok(len),
            Some(shape) => Err(format!("{name} has the shape {shape:?}, a vector expected")),
            None => Err(format!("the weights have no tensor {name}")),
        }
    }

    /// The tensor `name`, which must have `shape`.
    pub(crate) fn tensor(&self, name: &str, shape: &[usize]) -> Result<&Tensor, String> {
        let tensor = self
            .tensors
            .get(name)
            .ok_or_else(|| format!("the weights have no tensor {name}"))?;
        if tensor.shape != shape {
            return Err(format!(
                "{name} has the shape {:?}, {shape:?} expected",
                tensor.shape
            ));
        }
        Ok(tensor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive in hama's layout (tools/hama_pack.py in its repository).
    fn archive(tensors: &[(&str, u8, &[u32], Vec<u8>)]) -> Vec<u8> {
        let mut table = Vec::new();
        let mut blob: Vec<u8> = Vec::new();
        for (name, code, dims, raw) in tensors {
            while !blob.len().is_multiple_of(16) {
                blob.push(0);
            }
            table.extend_from_slice(&u16::try_from(name.len()).unwrap_or(0).to_le_bytes());
            table.extend_from_slice(name.as_bytes());
            table.push(*code);
            table.push(u8::try_from(dims.len()).unwrap_or(0));
            for d in *dims {
                table.extend_from_slice(&d.to_le_bytes());
            }
            table.extend_from_slice(&(blob.len() as u64).to_le_bytes());
            table.extend_from_slice(&(raw.len() as u64).to_le_bytes());
            blob.extend_from_slice(raw);
        }
        let mut out = MAGIC.to_vec();
        out.push(1);
        out.push(2);
        out.extend_from_slice(&u32::try_from(tensors.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&table);
        while !out.len().is_multiple_of(16) {
            out.push(0);
        }
        out.extend_from_slice(&blob);
        out
    }

    #[test]
    fn half_and_single_precision_tensors_are_read_by_name_and_shape() {
        let halves: Vec<u8> = [1.5f32, -2.0, 0.25]
            .iter()
            .flat_map(|&x| f16::from_f32(x).to_le_bytes())
            .collect();
        let singles: Vec<u8> = [3.0f32, 4.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        let bytes = archive(&[
            ("w", 1, &[3], halves),
            ("b", 0, &[2, 1], singles),
            ("ids", 2, &[1], 7u64.to_le_bytes().to_vec()),
        ]);
        let package = Package::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        let w = package.tensor("w", &[3]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.data, [1.5, -2.0, 0.25]);
        let b = package
            .tensor("b", &[2, 1])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.data, [3.0, 4.0]);
        assert!(
            package.tensor("ids", &[1]).is_err(),
            "integers are not weights"
        );
    }

    #[test]
    fn a_wrong_shape_a_missing_tensor_and_a_cut_archive_are_refused() {
        let singles: Vec<u8> = [3.0f32, 4.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        let bytes = archive(&[("b", 0, &[2], singles)]);
        let package = Package::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        let wrong = package.tensor("b", &[3]).err().unwrap_or_default();
        assert!(wrong.contains("[2]"), "{wrong}");
        assert!(package.tensor("c", &[2]).is_err());
        let cut = Package::parse(&bytes[..bytes.len() - 3])
            .err()
            .unwrap_or_default();
        assert!(cut.contains("ends early"), "{cut}");
        let foreign = Package::parse(b"PK\x03\x04 not ours")
            .err()
            .unwrap_or_default();
        assert!(foreign.contains("HAMAPK"), "{foreign}");
    }
}
