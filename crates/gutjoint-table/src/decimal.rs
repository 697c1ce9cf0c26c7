/*!
Plain decimals read fast and exactly: the value `f64::from_str` gives, bit for bit, for cells
such as `0.9714285714285714`, `12`, `2.5e-3`, read in the same pass that finds the cell's end.

Why: a 2,000-sample lsmat holds 4 million such cells. `f64::from_str` on each, after a separate
search for the tab, was ~30 % of `permanova DM.tsv`'s CPU time (`perf`, 2026-12-04), most of
it the general machinery around a conversion that for these cells needs one 64-bit product.

How: the digits are read eight at a time into an integer `w` with a decimal scale `q` (the text
is `w · 10^q`); the shape of nearly every distance, `0.` and 16 to 19 digits, is read in three
words without a loop. A fraction (`q` from −19 to −1, `k = −q`) is converted as Eisel and
Lemire do: `w` shifted to 64 significant bits times the leading 64 bits of 10^-k gives a 128-bit
product whose top 53 bits are the answer's significand and whose next bits say how to round
it; only when those bits are within the product's error of the halfway point (about 1 cell in
1,000) is the choice settled exactly, by comparing `w · 2^s` with the midpoints to the
neighbours, `(4m ± 2) · 10^k`, in 128-bit integers (ties to even). Lemire D (2021) Number
parsing at a gigabyte per second, Softw Pract Exp 51:1700. Otherwise, if `w ≤ 2^53` and
`|q| ≤ 22`, both `w` and `10^|q|` are exact doubles and one IEEE multiplication or division
rounds correctly (Clinger WD (1990) How to read floating point numbers accurately, PLDI '90);
a whole number (`q` from 0 to 19) is an integer below 2^128, converted with one rounding.
Anything else (a sign, spaces, more than 19 significant digits, large exponents, subnormal
results) is declined with `None` and left to `f64::from_str`, which then reads it or says why
not.
*/

/// `10^k` for `k` in `0..=22`: each exact in an `f64` (5^22 < 2^53).
const EXACT_POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `10^k` for `k` in `0..=19`, the powers a `u64` holds.
const POWERS_U64: [u64; 20] = {
    let mut p = [1u64; 20];
    let mut k = 1;
    while k < 20 {
        p[k] = p[k - 1] * 10;
        k += 1;
    }
    p
};
/// `b(k)`, the bits of 10^k (10^k lies in (2^(b−1), 2^b)), for k in 1..=19.
const RECIPROCAL_BITS: [u32; 20] = {
    let mut b = [0u32; 20];
    let mut k = 1;
    while k < 20 {
        b[k] = 128 - (10u128.pow(k as u32)).leading_zeros();
        k += 1;
    }
    b
};
/// floor(2^(63 + b(k)) / 10^k), the leading 64 bits of 10^-k (in [2^63, 2^64)), for k in 1..=19.
const RECIPROCALS: [u64; 20] = {
    let mut r = [0u64; 20];
    let mut k = 1;
    while k < 20 {
        r[k] = ((1u128 << (63 + RECIPROCAL_BITS[k])) / 10u128.pow(k as u32)) as u64;
        k += 1;
    }
    r
};

/// A run of digits with an optional point and exponent: the value `mantissa · 10^scale`,
/// ending at byte `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decimal {
    mantissa: u64,
    scale: i32,
    end: usize,
}

/// The `f64` that `f64::from_str` gives for the plain decimal starting at `start` — digits, an
/// optional fraction, an optional exponent (`e` or `E`, optional sign) — that ends at a tab or
/// at the end of `bytes`; with the position of that end. `None` when the text is anything else
/// or falls outside the exact paths (see the module doc): the caller then asks `f64::from_str`.
#[inline]
pub(crate) fn read_decimal(bytes: &[u8], start: usize) -> Option<(f64, usize)> {
    let decimal = scan(bytes, start)?;
    Some((decimal.to_f64()?, decimal.end))
}

/// Reads the digits, point and exponent of a plain decimal at `start`; see [`read_decimal`].
/// At most 19 significant digits (what a `u64` holds): leading zeros, before or after the
/// point, are not counted.
#[inline]
fn scan(bytes: &[u8], start: usize) -> Option<Decimal> {
    if let Some(d) = scan_fraction(bytes, start) {
        return Some(d);
    }
    let mut k = start;
    let mut any = false;
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut scale: i32 = 0;
    let mut fraction = false;
    loop {
        // Eight digits at a time while they fit (the fraction of a shortest form is mostly 16
        // or 17 digits: two words and a byte or two).
        while digits + 8 <= 19
            && let Some(word) = bytes.get(k..k + 8)
        {
            let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            if !all_digits(word) {
                break;
            }
            let value = eight_digits(word);
            if mantissa != 0 || value != 0 {
                // Counted from the first non-zero word on; the zeros leading a non-zero word
                // are counted too, which can only decline a cell, never misread one.
                digits += 8;
            }
            mantissa = mantissa * 100_000_000 + value;
            if fraction {
                scale -= 8;
            }
            any = true;
            k += 8;
        }
        match bytes.get(k) {
            Some(&c) if c.is_ascii_digit() => {
                if mantissa != 0 || c != b'0' {
                    if digits == 19 {
                        return None;
                    }
                    digits += 1;
                }
                mantissa = mantissa * 10 + u64::from(c - b'0');
                if fraction {
                    scale -= 1;
                }
                any = true;
                k += 1;
            }
            Some(b'.') if !fraction => {
                fraction = true;
                k += 1;
            }
            _ => break,
        }
    }
    if !any {
        return None;
    }
    if let Some(b'e' | b'E') = bytes.get(k) {
        k += 1;
        let negative = match bytes.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let digits_start = k;
        let mut exponent: i32 = 0;
        while let Some(&c) = bytes.get(k)
            && c.is_ascii_digit()
        {
            if k - digits_start == 4 {
                return None;
            }
            exponent = exponent * 10 + i32::from(c - b'0');
            k += 1;
        }
        if k == digits_start {
            return None;
        }
        scale += if negative { -exponent } else { exponent };
    }
    if k < bytes.len() && bytes[k] != b'\t' {
        return None;
    }
    Some(Decimal {
        mantissa,
        scale,
        end: k,
    })
}

/// The shape of nearly every distance: `0.` then 16 to 19 digits, then a tab.
#[inline]
fn scan_fraction(bytes: &[u8], start: usize) -> Option<Decimal> {
    let head = bytes.get(start..start + 26)?;
    if head[0] != b'0' || head[1] != b'.' {
        return None;
    }
    let word = |k: usize| u64::from_le_bytes(head[k..k + 8].try_into().expect("eight bytes"));
    let (a, b, c) = (word(2), word(10), word(18));
    if !all_digits(a) || !all_digits(b) {
        return None;
    }
    let t = c ^ 0x3030_3030_3030_3030;
    let not_digit =
        (t | ((t & 0x7F7F_7F7F_7F7F_7F7F) + 0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080;
    let r = (not_digit.trailing_zeros() / 8) as usize;
    if r > 3 || head[18 + r] != b'\t' {
        return None;
    }
    let tail = if r == 0 {
        0
    } else {
        eight_digits((c << (64 - 8 * r)) | (0x3030_3030_3030_3030 >> (8 * r)))
    };
    let mantissa = (eight_digits(a) * 100_000_000 + eight_digits(b)) * POWERS_U64[r] + tail;
    Some(Decimal {
        mantissa,
        scale: -16 - r as i32,
        end: start + 18 + r,
    })
}

impl Decimal {
    /// Whole numbers and decimals with more than 19 places: rarer in tables and matrices, so
    /// kept out of the fraction path's way.
    #[inline(never)]
    fn outside(self) -> Option<f64> {
        let (w, q) = (self.mantissa, self.scale);
        if w <= 1 << 53 && (-22..=22).contains(&q) {
            let power = EXACT_POWERS[q.unsigned_abs() as usize];
            // Clinger's fast path: two exact operands, one correctly rounded operation.
            return Some(if q < 0 {
                w as f64 / power
            } else {
                w as f64 * power
            });
        }
        if (0..=19).contains(&q) {
            // A whole number below 2^128 (w < 2^64, 10^19 < 2^64): the integer conversion
            // rounds to nearest, ties to even, as the parser does.
            return Some((u128::from(w) * u128::from(POWERS_U64[q as usize])) as f64);
        }
        None
    }

    /// The correctly rounded value (ties to even), or `None` outside the exact paths.
    #[inline]
    fn to_f64(self) -> Option<f64> {
        let (w, q) = (self.mantissa, self.scale);
        if w == 0 {
            return Some(0.0);
        }
        if !(-19..=-1).contains(&q) {
            return self.outside();
        }
        let k = q.unsigned_abs() as usize;
        let ten_k = POWERS_U64[k];
        // w / 10^k from w's 64 bits, normalised, times 10^-k's leading 64 bits: the 128-bit
        // product P is below the exact quotient (scaled) by less than 2^64, so its top 64 bits
        // give the 53-bit significand and say how to round it, unless the dropped bits lie
        // within that margin of the halfway point (about 1 in 1,000 cells): those are settled
        // exactly.
        let lz = w.leading_zeros();
        let product = u128::from(w << lz) * u128::from(RECIPROCALS[k]);
        let hi = (product >> 64) as u64;
        // The product's top bit is bit 127 or 126: keep 53 bits, drop 11 or 10.
        let drop = 10 + (hi >> 63) as u32;
        let kept = hi >> drop;
        let dropped = hi & ((1 << drop) - 1);
        let half = 1 << (drop - 1);
        let unit = i64::from(64 + drop) - i64::from(lz + 63 + RECIPROCAL_BITS[k]);
        if dropped == half - 1 {
            let mut bits = assemble(kept, unit)?;
            for _ in 0..4 {
                match direction(w, ten_k, bits)? {
                    0 => return Some(f64::from_bits(bits)),
                    step => bits = bits.wrapping_add_signed(step),
                }
            }
            return None;
        }
        // Past the halfway point (the exact value exceeds P, never equals it for k ≥ 1).
        let rounded = kept + u64::from(dropped >= half);
        assemble(rounded, unit).map(f64::from_bits)
    }
}

/// The bits of the double `significand · 2^unit` for a significand of 53 bits, or 2^53 after
/// rounding up; `None` unless it is normal.
#[inline]
fn assemble(significand: u64, unit: i64) -> Option<u64> {
    let carry = significand >> 53;
    let biased = unit + 1075 + carry as i64;
    if !(1..=2046).contains(&biased) {
        return None;
    }
    Some(((biased as u64) << 52) | ((significand >> carry) & ((1 << 52) - 1)))
}

/// Which way the positive normal double `bits` must move, by one unit in the last place, to
/// come nearer the exact `w / ten_k` (ties to even): −1, 0 or +1, decided in 128-bit integers by
/// comparing `w · 2^(2 − e)` with the midpoints to both neighbours scaled the same way,
/// `(4m ± 2) · ten_k` (`4m − 1` below at the bottom of a binade, where the spacing below is
/// half), for `bits = m · 2^e`. `None` when that does not fit 128 bits or `bits` is not normal.
#[inline]
fn direction(w: u64, ten_k: u64, bits: u64) -> Option<i64> {
    let biased = (bits >> 52) & 0x7FF;
    if biased == 0 || biased == 0x7FF {
        return None;
    }
    let m = (bits & ((1 << 52) - 1)) | (1 << 52);
    // e = biased − 1075, so 2 − e:
    let shift = 1077 - biased as i64;
    if !(0..128).contains(&shift) || u128::from(w).leading_zeros() < shift as u32 {
        return None;
    }
    let exact = u128::from(w) << shift;
    let above = u128::from(4 * m + 2) * u128::from(ten_k);
    let below = u128::from(4 * m - 1 - u64::from(m != 1 << 52)) * u128::from(ten_k);
    let odd = m & 1 == 1;
    // Non-short-circuit `|` and `&`: flags, not branches, on the common path.
    let up = (exact > above) | ((exact == above) & odd);
    let down = (exact < below) | ((exact == below) & odd);
    Some(i64::from(up) - i64::from(down))
}

/// Whether the eight bytes of `word` are all ASCII digits: each byte's high nibble is 3, and
/// adding 6 to its low nibble does not carry into the high one (which it does from `:` on).
#[inline]
fn all_digits(word: u64) -> bool {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let carried = word.wrapping_add(0x0606_0606_0606_0606) & HIGH;
    (word & HIGH) | (carried >> 4) == 0x3333_3333_3333_3333
}

/// The value of eight ASCII digits read little-endian (the first digit in the lowest byte):
/// pairs, then quadruples, then the whole, each step one multiply-add per lane.
#[inline]
fn eight_digits(word: u64) -> u64 {
    let d = word - 0x3030_3030_3030_3030;
    // Each 16-bit lane: first digit × 10 + second.
    let pairs = (d.wrapping_mul(10) + (d >> 8)) & 0x00FF_00FF_00FF_00FF;
    // Each 32-bit lane: first pair × 100 + second.
    let quads = (pairs.wrapping_mul(100) + (pairs >> 16)) & 0x0000_FFFF_0000_FFFF;
    // First quadruple × 10,000 + second.
    (quads.wrapping_mul(10_000) + (quads >> 32)) & 0xFFFF_FFFF
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state ^ (state >> 29)
        }
    }

    /// `read_decimal` against the peer it stands in for, `f64::from_str`: the same bits for
    /// every text it reads, the end at the tab.
    fn check(text: &str) -> bool {
        let cell = format!("{text}\t0.5");
        let Some((v, end)) = read_decimal(cell.as_bytes(), 0) else {
            return false;
        };
        let want: f64 = text.parse().expect("a valid decimal");
        assert_eq!(v.to_bits(), want.to_bits(), "{text}: {v:e} vs {want:e}");
        assert_eq!(end, text.len(), "{text}");
        assert_eq!(read_decimal(text.as_bytes(), 0), Some((v, text.len())));
        true
    }

    /// Shortest round-trip forms (as every lsmat writer prints them), 17-digit scientific
    /// forms and Rust's fixed-point forms of random doubles over 40 orders of magnitude: each
    /// read exactly or declined, and every shortest form from 1e-3 to 1e35 read.
    #[test]
    fn random_doubles_read_back_to_the_same_bits() {
        let mut next = lcg(0x2545_F491_4F6C_DD1D);
        let mut read = 0;
        for _ in 0..200_000 {
            let unit = (next() >> 11) as f64 / (1u64 << 53) as f64;
            let v = unit * 10f64.powi((next() % 40) as i32 - 20);
            let shortest = ryu::Buffer::new().format(v).to_string();
            let was_read = check(&shortest);
            assert!(was_read || !(1e-3..1e35).contains(&v), "{shortest}");
            read += usize::from(was_read);
            check(&format!("{v:.16e}"));
            check(&format!("{v}"));
        }
        assert!(read > 100_000, "{read}");
        // Random texts of 1 to 20 digits, a point anywhere or none, an exponent or none.
        let mut shapes = 0;
        for _ in 0..300_000 {
            let digits: String = (0..1 + next() % 20)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let point = (next() % (digits.len() as u64 + 2)) as usize;
            let mut text = if point <= digits.len() {
                format!("{}.{}", &digits[..point], &digits[point..])
            } else {
                digits
            };
            if next().is_multiple_of(3) {
                text += &format!("e{}", (next() % 50) as i32 - 25);
            }
            shapes += usize::from(check(&text));
        }
        assert!(shapes > 200_000, "{shapes}");
        // Distance-like values in [1e-3, 1): every one of them.
        for _ in 0..200_000 {
            let v = 1e-3 + (next() >> 11) as f64 / (1u64 << 53) as f64 * (1.0 - 1e-3);
            assert!(check(ryu::Buffer::new().format(v)), "{v}");
        }
    }

    /// Texts exactly halfway between two doubles (o / 2^s for an odd o in [2^53, 2^54), so one
    /// bit past the precision) round to the even neighbour, and texts one unit of the last
    /// digit either side round to the nearer one.
    #[test]
    fn halfway_texts_round_to_even() {
        let mut next = lcg(7);
        let mut ties = 0;
        for _ in 0..50_000 {
            let odd = ((1u64 << 53) + (next() >> 11)) | 1;
            for s in 1..=3u32 {
                let w = u128::from(odd) * 5u128.pow(s);
                let whole = w / 10u128.pow(s);
                let fraction = w % 10u128.pow(s);
                let text = format!("{whole}.{fraction:0width$}", width = s as usize);
                ties += usize::from(check(&text));
                for neighbour in [w - 1, w + 1] {
                    let text = format!(
                        "{}.{:0width$}",
                        neighbour / 10u128.pow(s),
                        neighbour % 10u128.pow(s),
                        width = s as usize
                    );
                    check(&text);
                }
            }
        }
        assert!(ties > 140_000, "{ties}");
    }

    #[test]
    fn edge_cases_read_or_declined() {
        for text in [
            "0",
            "00.0",
            "0.000",
            "1",
            "1.0",
            "5.",
            ".5",
            "0.25",
            "1e5",
            "1E+05",
            "1.e5",
            "2.5e-3",
            "0.000123",
            "0.0000000000000000001234",
            "123.456e-7",
            "9007199254740992",
            "9007199254740993",
            "9999999999999999999",
            "9007199254740993e-1",
            "0.9999999999999999",
            "0.99999999999999999",
            "1.0000000000000002",
            "4.9406564584124654e-3",
            "1.2345678901234567e34",
            "9999999999999999999e-19",
            "1e22",
        ] {
            assert!(check(text), "{text} should be read here");
        }
        // Outside the exact paths or not plain decimals: left to `f64::from_str`.
        for declined in [
            "",
            ".",
            "e5",
            "1e",
            "1e+",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1x",
            "inf",
            "nan",
            "1.2.3",
            "12345678901234567890",
            "1e12345",
            "1e400",
            "1e-300",
            "1.2345678901234567e-5",
            "0.000000000000000000001234",
            "0x10",
            "1\r",
        ] {
            assert_eq!(read_decimal(declined.as_bytes(), 0), None, "{declined:?}");
        }
    }

    /// The word helpers against a byte-by-byte reading, on every digit in every position and
    /// on each non-digit byte in every position.
    #[test]
    fn eight_digit_words_read_as_their_decimal_value() {
        for v in [0u64, 1, 12_345_678, 99_999_999, 10_000_000, 40_302_010] {
            let text = format!("{v:08}");
            let word = u64::from_le_bytes(text.as_bytes().try_into().unwrap());
            assert!(all_digits(word), "{text}");
            assert_eq!(eight_digits(word), v, "{text}");
        }
        for position in 0..8 {
            for digit in b'0'..=b'9' {
                let mut bytes = *b"00000000";
                bytes[position] = digit;
                let word = u64::from_le_bytes(bytes);
                let want = u64::from(digit - b'0') * 10u64.pow(7 - position as u32);
                assert!(all_digits(word));
                assert_eq!(eight_digits(word), want);
            }
            for other in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
                let mut bytes = *b"12345678";
                bytes[position] = other;
                assert!(
                    !all_digits(u64::from_le_bytes(bytes)),
                    "{other} at {position}"
                );
            }
        }
    }
}
