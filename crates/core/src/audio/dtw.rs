//! Dynamic time warping between two feature sequences.

/// The warping path as (index in `a`, index in `b`) pairs from (0,0) to the
/// two ends, monotone in both.
pub fn dtw_path(a: &[Vec<f32>], b: &[Vec<f32>]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    if n == 0 || m == 0 {
        return Vec::new();
    }
    let dist = |i: usize, j: usize| -> f32 {
        a[i].iter()
            .zip(&b[j])
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f32>()
            .sqrt()
    };
    // Full cost matrix; takes are short (30 s is 3000 × 3000 cells).
    let mut cost = vec![f32::INFINITY; n * m];
    // 0 = diagonal, 1 = from (i-1, j), 2 = from (i, j-1)
    let mut step = vec![0u8; n * m];
    for i in 0..n {
        for j in 0..m {
            let d = dist(i, j);
            let (best, dir) = if i == 0 && j == 0 {
                (0.0, 0)
            } else {
                let diag = if i > 0 && j > 0 {
                    cost[(i - 1) * m + j - 1]
                } else {
                    f32::INFINITY
                };
                let up = if i > 0 {
                    cost[(i - 1) * m + j]
                } else {
                    f32::INFINITY
                };
                let left = if j > 0 {
                    cost[i * m + j - 1]
                } else {
                    f32::INFINITY
                };
                if diag <= up && diag <= left {
                    (diag, 0)
                } else if up <= left {
                    (up, 1)
                } else {
                    (left, 2)
                }
            };
            cost[i * m + j] = best + d;
            step[i * m + j] = dir;
        }
    }
    let (mut i, mut j) = (n - 1, m - 1);
    let mut path = vec![(i, j)];
    while i > 0 || j > 0 {
        match step[i * m + j] {
            0 => {
                i -= 1;
                j -= 1;
            }
            1 => i -= 1,
            _ => j -= 1,
        }
        path.push((i, j));
    }
    path.reverse();
    path
}

/// For each index of `a`, the first matching index of `b` on the path.
pub fn map_a_to_b(path: &[(usize, usize)], len_a: usize) -> Vec<usize> {
    let mut out = vec![usize::MAX; len_a];
    for &(i, j) in path {
        if i < len_a && out[i] == usize::MAX {
            out[i] = j;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_stretch() {
        // b is a with every element doubled.
        let a: Vec<Vec<f32>> = (0..10).map(|i| vec![i as f32]).collect();
        let b: Vec<Vec<f32>> = (0..20).map(|i| vec![(i / 2) as f32]).collect();
        let path = dtw_path(&a, &b);
        assert_eq!(path.first(), Some(&(0, 0)));
        assert_eq!(path.last(), Some(&(9, 19)));
        let map = map_a_to_b(&path, a.len());
        for (i, j) in map.iter().enumerate() {
            assert_eq!(*j, 2 * i);
        }
    }
}
