//! motor.* primitives (engine.md §5.1–5.10).

use md5::{Digest, Md5};

use super::{emit, Emitted};
use crate::context::SessionContext;
use crate::honest::{honest, near_any};
use crate::input_units::{paste_unit_share, pasted_char_share};
use crate::profile::Profile;
use crate::stats::{fmean, mean_and_cv, median, median_u64, py_min, StatsError};
use crate::text::encode_utf8_replace;
use crate::thresholds::*;

type R = Result<Emitted, StatsError>;

fn paste_ratio(ctx: &SessionContext<'_>) -> Option<f64> {
    let n = ctx.inputs.len();
    (n > 0).then(|| ctx.paste_event_count as f64 / n as f64)
}

/// Payload-carrying input units (the sample count of D-MODALITY/D-PASTERATE).
fn payload_units(ctx: &SessionContext<'_>) -> usize {
    ctx.behave
        .as_ref()
        .map_or(0, |b| b.units.iter().filter(|u| u.has_payload()).count())
}

/// §5.1; `behave-0.1.4`: share of pasted code points (D-MODALITY, D-CONF).
pub(crate) fn input_modality(ctx: &SessionContext<'_>, p: Profile) -> R {
    if let (Profile::Behave014, Some(b)) = (p, &ctx.behave) {
        let Some(r) = pasted_char_share(&b.units) else {
            return Ok(None);
        };
        let (v, c) = if r >= MODALITY_PASTED_MIN {
            ("pasted", 0.75)
        } else if r <= MODALITY_TYPED_MAX {
            ("typed", 0.75)
        } else {
            ("mixed", 0.70)
        };
        let edge = near_any(r, &[MODALITY_PASTED_MIN, MODALITY_TYPED_MAX]);
        return emit(v, honest(c, payload_units(ctx), edge));
    }
    let Some(r) = paste_ratio(ctx) else {
        return Ok(None);
    };
    if r >= MODALITY_PASTED_MIN {
        emit("pasted", 0.75)
    } else if r <= MODALITY_TYPED_MAX {
        emit("typed", 0.75)
    } else {
        emit("mixed", 0.70)
    }
}

/// §5.2; `behave-0.1.4`: share of paste units (D-PASTERATE, D-CONF).
pub(crate) fn paste_burst_rate(ctx: &SessionContext<'_>, p: Profile) -> R {
    if let (Profile::Behave014, Some(b)) = (p, &ctx.behave) {
        let Some(r) = paste_unit_share(&b.units) else {
            return Ok(None);
        };
        let (v, c) = if r >= BEHAVE_PASTE_RATE_HABITUAL_MIN {
            ("habitual", 0.80)
        } else if r >= PASTE_RATE_OCCASIONAL_MIN {
            ("occasional", 0.70)
        } else {
            ("none", 0.70)
        };
        let edge = near_any(
            r,
            &[BEHAVE_PASTE_RATE_HABITUAL_MIN, PASTE_RATE_OCCASIONAL_MIN],
        );
        return emit(v, honest(c, payload_units(ctx), edge));
    }
    let Some(r) = paste_ratio(ctx) else {
        return Ok(None);
    };
    if r >= PASTE_RATE_HABITUAL_MIN {
        emit("habitual", 0.80)
    } else if r >= PASTE_RATE_OCCASIONAL_MIN {
        emit("occasional", 0.70)
    } else {
        emit("none", 0.70)
    }
}

/// §5.3 (bursts per D-UNITS in `behave-0.1.4`; D-CONF: samples = burst IATs).
pub(crate) fn keystroke_cadence(ctx: &SessionContext<'_>, p: Profile) -> R {
    let out = keystroke_cadence_ref(ctx)?;
    if p == Profile::Decnet12 {
        return Ok(out);
    }
    let Some((v, c)) = out else {
        return Ok(None);
    };
    let samples = ctx.typing_bursts.values().len();
    let cvs: &[f64] = ctx.burst_cvs.as_deref().map_err(|&e| e)?;
    let edge =
        !cvs.is_empty() && near_any(median(cvs), &[CV_MACHINE_MAX, CV_STEADY_MAX, CV_BURSTY_MAX]);
    Ok(Some((v, honest(c, samples, edge))))
}

fn keystroke_cadence_ref(ctx: &SessionContext<'_>) -> R {
    if ctx.inputs.len() < MIN_INPUTS_FOR_CADENCE || ctx.typing_bursts.is_empty() {
        return Ok(None);
    }
    let cvs: &[f64] = ctx.burst_cvs.as_deref().map_err(|&e| e)?;
    if cvs.is_empty() {
        return Ok(None);
    }
    let cv = median(cvs);
    let mean_iki = fmean(ctx.typing_bursts.values())?;
    if mean_iki < IKI_MACHINE_MAX_S && cv < CV_MACHINE_MAX {
        emit("machine", 0.85)
    } else if cv < CV_STEADY_MAX {
        emit("steady", 0.70)
    } else if cv < CV_BURSTY_MAX {
        emit("bursty", 0.65)
    } else {
        emit("hunt_and_peck", 0.60)
    }
}

/// 64-bit Charikar SimHash over weighted tokens (§5.4).
#[cfg(test)]
pub(crate) fn simhash64<'t>(tokens: impl IntoIterator<Item = (&'t [u32], u64)>) -> u64 {
    let mut h = SimHash::default();
    for (tok, w) in tokens {
        h.add(tok, w);
    }
    h.finish()
}

/// Incremental [`simhash64`]: the per-bit sums are integer additions, so
/// the result does not depend on the order tokens are added in.
/// The 64 per-bit sums `Σ w·(bit ? +1 : −1)` of a SimHash, kept as
/// `2·S − W` where `S[i]` is the total weight of the hashes with bit `i`
/// set and `W` the total weight. `S` is held bit-sliced: `planes[j]` holds
/// bit `j` of all 64 counters, so adding a hash is a ripple-carry add of
/// one 64-lane word (a few word operations, not 64 lane updates).
#[derive(Default)]
struct SimHash {
    planes: Vec<u64>,
    total: u64,
    bytes: Vec<u8>,
}

/// Direct-mapped memo of digraph-token hashes (`MD5(token)[..8]`): the
/// tokens are `a b ':' bucket`, few distinct ones recur across sessions,
/// and MD5 was about half of this primitive's cost. A pure function's
/// memo, per thread: the output does not depend on what it holds. 16 K
/// slots (256 KiB): with 4 K, one lookup in ten still missed on a day-shard.
const TOKEN_MEMO_BITS: u32 = 14;
const TOKEN_MEMO_SLOTS: usize = 1 << TOKEN_MEMO_BITS;

thread_local! {
    static TOKEN_MEMO: std::cell::RefCell<Vec<(u64, u64)>> =
        std::cell::RefCell::new(vec![(0, 0); TOKEN_MEMO_SLOTS]);
}

/// Runs `f` with this thread's token memo (borrowed once per session, not
/// once per digraph).
fn with_token_memo<R>(f: impl FnOnce(&mut [(u64, u64)]) -> R) -> R {
    TOKEN_MEMO.with(|m| f(&mut m.borrow_mut()))
}

impl SimHash {
    /// Adds the digraph token `a b ':' ('0' + bucket)` with weight `w`;
    /// `memo` has [`TOKEN_MEMO_SLOTS`] slots.
    fn add_digraph(&mut self, memo: &mut [(u64, u64)], a: u32, b: u32, bucket: u32, w: u64) {
        if w == 0 {
            return;
        }
        // Code points are < 2^21 and buckets < 2^8: the key is exact, and
        // bit 63 marks a filled slot.
        let key = (1u64 << 63) | (u64::from(a) << 29) | (u64::from(b) << 8) | u64::from(bucket);
        let slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - TOKEN_MEMO_BITS)) as usize;
        let h = match memo.get(slot) {
            Some(&(k, h)) if k == key => h,
            _ => {
                let tok = [a, b, u32::from(b':'), u32::from(b'0') + bucket];
                let h = self.token_hash(&tok);
                if let Some(m) = memo.get_mut(slot) {
                    *m = (key, h);
                }
                h
            }
        };
        self.add_hash(h, w);
    }

    fn token_hash(&mut self, tok: &[u32]) -> u64 {
        self.bytes.clear();
        encode_utf8_replace(tok, &mut self.bytes);
        let d = Md5::digest(&self.bytes);
        let mut h8 = [0u8; 8];
        h8.copy_from_slice(&d[..8]);
        u64::from_be_bytes(h8)
    }

    #[cfg(test)]
    fn add(&mut self, tok: &[u32], w: u64) {
        if w == 0 {
            return;
        }
        let h = self.token_hash(tok);
        self.add_hash(h, w);
    }

    /// `+w` on the set bits of `h`, `-w` on the others: `h` is added to
    /// the bit-sliced counters once per set bit `j` of `w`, at plane `j`.
    fn add_hash(&mut self, h: u64, w: u64) {
        self.total += w;
        let mut rest = w;
        while rest != 0 {
            let j = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let mut carry = h;
            let mut k = j;
            while carry != 0 {
                if k >= self.planes.len() {
                    self.planes.resize(k + 1, 0);
                }
                let p = self.planes[k];
                self.planes[k] = p ^ carry;
                carry &= p;
                k += 1;
            }
        }
    }

    /// `S[i]`: counter `i` read back from the planes.
    fn weight_of_bit(&self, i: usize) -> u128 {
        self.planes
            .iter()
            .enumerate()
            .fold(0u128, |s, (j, &p)| s | (u128::from((p >> i) & 1) << j))
    }

    /// The 64 signed sums (tests).
    #[cfg(test)]
    fn sums(&self) -> [i128; 64] {
        std::array::from_fn(|i| 2 * self.weight_of_bit(i) as i128 - i128::from(self.total))
    }

    /// Bit `i` is set where its sum is positive: `2·S[i] > W`.
    fn finish(&self) -> u64 {
        (0..64)
            .filter(|&i| 2 * self.weight_of_bit(i) > u128::from(self.total))
            .fold(0u64, |h, i| h | (1 << i))
    }
}

/// A session's flights grouped by digraph: each digraph's flights as
/// their bits, sorted (every flight is positive and finite, so its bits
/// order as its value). Grouped through a small open-addressing table and
/// a counting sort, not by sorting all flights: a session has a few
/// hundred flights over a few dozen digraphs, and the groups' order does
/// not matter (the SimHash is a sum).
struct DigraphGroups {
    keys: Vec<u64>,
    /// `starts[g]..starts[g + 1]` is group `g`'s run of `flights`.
    starts: Vec<usize>,
    flights: Vec<u64>,
}

impl DigraphGroups {
    fn of(flights: &[(u64, f64)]) -> DigraphGroups {
        let n = flights.len();
        let mask = (2 * n).next_power_of_two().max(16) - 1;
        let mut slots = vec![u32::MAX; mask + 1];
        let mut keys: Vec<u64> = Vec::with_capacity(n);
        let mut counts: Vec<usize> = Vec::with_capacity(n);
        let mut group_of: Vec<u32> = Vec::with_capacity(n);
        for &(k, _) in flights {
            let x = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut h = (x ^ (x >> 32)) as usize & mask;
            let g = loop {
                match slots[h] {
                    u32::MAX => {
                        let g = keys.len();
                        slots[h] = g as u32;
                        keys.push(k);
                        counts.push(0);
                        break g;
                    }
                    g if keys[g as usize] == k => break g as usize,
                    _ => h = (h + 1) & mask,
                }
            };
            counts[g] += 1;
            group_of.push(g as u32);
        }
        let mut starts = Vec::with_capacity(keys.len() + 1);
        let mut at = 0;
        for &c in &counts {
            starts.push(at);
            at += c;
        }
        starts.push(at);
        let mut fill = starts.clone();
        let mut sorted = vec![0u64; n];
        for (&(_, dt), &g) in flights.iter().zip(&group_of) {
            let g = g as usize;
            sorted[fill[g]] = dt.to_bits();
            fill[g] += 1;
        }
        for w in starts.windows(2) {
            sorted[w[0]..w[1]].sort_unstable();
        }
        DigraphGroups {
            keys,
            starts,
            flights: sorted,
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    /// `(digraph, its sorted flights as bits)` per group.
    fn runs(&self) -> impl Iterator<Item = (u64, &[u64])> {
        self.keys
            .iter()
            .zip(self.starts.windows(2))
            .map(|(&k, w)| (k, &self.flights[w[0]..w[1]]))
    }
}

/// §5.4; `behave-0.1.4`: control bytes are not digraph keys and the
/// confidence counts only digraphs with ≥ 2 flights (D-PRIVACY, D-CONF).
///
/// Flights are collected as `(first, second, dt)` and grouped by digraph
/// ([`DigraphGroups`]): each digraph's median does not depend on the order
/// of its flights, and the SimHash does not depend on the order of the
/// digraphs.
pub(crate) fn digraph_simhash(ctx: &SessionContext<'_>, p: Profile) -> R {
    let behave = p == Profile::Behave014;
    // `(a << 32 | b, flight)`: one integer key per digraph.
    let mut flights: Vec<(u64, f64)> = Vec::with_capacity(ctx.inputs.len());
    let mut prev: Option<(f64, u32)> = None;
    for ev in &ctx.inputs {
        if ev.data.len() != 1 || (behave && (ev.data[0] < 0x20 || ev.data[0] == 0x7F)) {
            prev = None;
            continue;
        }
        let c = ev.data[0];
        if let Some((t0, c0)) = prev {
            let dt = ev.t - t0;
            if 0.0 < dt && dt <= IKI_THINK_MAX_S {
                flights.push(((u64::from(c0) << 32) | u64::from(c), dt));
            }
        }
        prev = Some((ev.t, c));
    }
    let samples = flights.len();
    if samples < MIN_DIGRAPH_SAMPLES {
        return Ok(None);
    }
    let groups = DigraphGroups::of(&flights);
    let d = groups.len();
    if d < MIN_DIGRAPHS_FOR_SIMHASH {
        return Ok(None);
    }
    let mut hash = SimHash::default();
    let mut solid = 0usize;
    with_token_memo(|memo| {
        for (key, run) in groups.runs() {
            // `statistics.median` of the run, sorted: the middle, or the
            // mean of the two middle values.
            let n = run.len();
            let m = if n % 2 == 1 {
                f64::from_bits(run[n / 2])
            } else {
                (f64::from_bits(run[n / 2 - 1]) + f64::from_bits(run[n / 2])) / 2.0
            };
            let bucket = DIGRAPH_FLIGHT_BUCKETS_S
                .iter()
                .position(|&e| m < e)
                .unwrap_or(DIGRAPH_FLIGHT_BUCKETS_S.len());
            let (a, b) = ((key >> 32) as u32, key as u32);
            hash.add_digraph(memo, a, b, bucket as u32, n as u64);
            if n >= 2 {
                solid += 1;
            }
        }
    });
    let h = hash.finish();
    let confidence = if behave {
        honest(py_min(0.95, 0.40 + 0.05 * solid as f64), solid, false)
    } else {
        py_min(0.95, 0.40 + 0.05 * d as f64)
    };
    Ok(Some((format!("{h:016x}").into(), confidence)))
}

/// §5.5 (bursts per D-UNITS in `behave-0.1.4`; D-CONF near the tremor
/// rate or CV boundary).
pub(crate) fn motor_stability(ctx: &SessionContext<'_>, p: Profile) -> R {
    let out = motor_stability_ref(ctx)?;
    if p == Profile::Decnet12 {
        return Ok(out);
    }
    let Some((v, c)) = out else {
        return Ok(None);
    };
    let total = ctx.typing_bursts.values().len();
    let fast = ctx
        .typing_bursts
        .values()
        .iter()
        .filter(|&&x| x < TREMOR_FAST_FLOOR_S)
        .count();
    let cvs: &[f64] = ctx.burst_cvs.as_deref().map_err(|&e| e)?;
    let edge = near_any(fast as f64 / total.max(1) as f64, &[TREMOR_RATE_MIN])
        || (v != "tremor" && !cvs.is_empty() && near_any(median(cvs), &[CV_STEADY_MAX]));
    Ok(Some((v, honest(c, total, edge))))
}

fn motor_stability_ref(ctx: &SessionContext<'_>) -> R {
    if ctx.typing_bursts.is_empty() {
        return Ok(None);
    }
    let total = ctx.typing_bursts.values().len();
    if total < TREMOR_MIN_IATS {
        return Ok(None);
    }
    let fast = ctx
        .typing_bursts
        .values()
        .iter()
        .filter(|&&x| x < TREMOR_FAST_FLOOR_S)
        .count();
    if fast as f64 / total as f64 >= TREMOR_RATE_MIN {
        return emit("tremor", 0.65);
    }
    let cvs: &[f64] = ctx.burst_cvs.as_deref().map_err(|&e| e)?;
    let cv = if cvs.is_empty() { 0.0 } else { median(cvs) };
    if cv < CV_STEADY_MAX {
        emit("steady", 0.70)
    } else {
        emit("variable", 0.60)
    }
}

/// §5.6; `behave-0.1.4`: immediate ≤ 1 s, route_around = history recall or
/// rewriting without backspace (D-ERRCORR, D-CONF).
pub(crate) fn error_correction(ctx: &SessionContext<'_>, p: Profile) -> R {
    if ctx.inputs.len() < ERROR_CORRECTION_MIN_INPUTS {
        return Ok(None);
    }
    if let (Profile::Behave014, Some(b)) = (p, &ctx.behave) {
        let units = payload_units(ctx).max(b.units.len());
        if ctx.backspace_count == 0 {
            let recalls = b.recalled.iter().filter(|&&r| r).count();
            return if ctx.kill_line_count > 0 || recalls > 0 {
                emit(
                    "route_around",
                    honest(0.55, ctx.kill_line_count + recalls, false),
                )
            } else {
                emit("absent", honest(0.65, units, false))
            };
        }
        if ctx.backspace_iats.is_empty() {
            return emit("deferred", honest(0.55, 0, false));
        }
        let m = median(&ctx.backspace_iats);
        let edge = near_any(m, &[BEHAVE_BACKSPACE_IMMEDIATE_MAX_S]);
        let n = ctx.backspace_iats.len();
        return if m <= BEHAVE_BACKSPACE_IMMEDIATE_MAX_S {
            emit("immediate", honest(0.65, n, edge))
        } else {
            emit("deferred", honest(0.55, n, edge))
        };
    }
    if ctx.backspace_count == 0 {
        return if ctx.kill_line_count > 0 {
            emit("route_around", 0.55)
        } else {
            emit("absent", 0.65)
        };
    }
    let m = if ctx.backspace_iats.is_empty() {
        f64::INFINITY
    } else {
        median(&ctx.backspace_iats)
    };
    if m <= BACKSPACE_IMMEDIATE_MAX_S {
        emit("immediate", 0.65)
    } else {
        emit("deferred", 0.55)
    }
}

/// §5.7; `behave-0.1.4` (D-CHUNKING): `single_command` = one complete
/// command at a time, never a pipeline or list, typing flow unmeasurable.
pub(crate) fn command_chunking(ctx: &SessionContext<'_>, p: Profile) -> R {
    if let (Profile::Behave014, Some(b)) = (p, &ctx.behave) {
        let n = ctx.n_cmd();
        if n == 0 {
            return Ok(None);
        }
        let mut cvs = Vec::with_capacity(ctx.intra_command_iats.len());
        for iats in &ctx.intra_command_iats {
            if iats.len() < CMD_CHUNKING_MIN_IATS {
                continue;
            }
            if let (_, Some(cv)) = mean_and_cv(iats, true, |m| m > 0.0)? {
                cvs.push(cv);
            }
        }
        if cvs.is_empty() {
            if b.compound.iter().any(|&c| c) {
                return Ok(None);
            }
            return emit("single_command", honest(0.80, n, false));
        }
        let m = median(&cvs);
        let edge = near_any(m, &[CMD_CHUNKING_FLUENT_CV_MAX]);
        return if m < CMD_CHUNKING_FLUENT_CV_MAX {
            emit("fluent", honest(0.65, cvs.len(), edge))
        } else {
            emit("fragmented", honest(0.60, cvs.len(), edge))
        };
    }
    match ctx.n_cmd() {
        0 => return Ok(None),
        1 => return emit("single_command", 0.80),
        _ => {}
    }
    let mut cvs = Vec::with_capacity(ctx.intra_command_iats.len());
    for iats in &ctx.intra_command_iats {
        if iats.len() < CMD_CHUNKING_MIN_IATS {
            continue;
        }
        if let (_, Some(cv)) = mean_and_cv(iats, true, |m| m > 0.0)? {
            cvs.push(cv);
        }
    }
    if cvs.is_empty() {
        return Ok(None);
    }
    if median(&cvs) < CMD_CHUNKING_FLUENT_CV_MAX {
        emit("fluent", 0.65)
    } else {
        emit("fragmented", 0.60)
    }
}

/// `near(v, b)` of §5.8–5.10, literally.
fn near(v: f64, b: f64) -> bool {
    if b == 0.0 {
        v.abs() <= SHELL_MASTERY_BOUNDARY_BAND
    } else {
        (v - b).abs() / b <= SHELL_MASTERY_BOUNDARY_BAND
    }
}

fn mastery_confidence(n_cmd: usize, near_edge: bool, full: f64) -> f64 {
    if n_cmd < SHELL_MASTERY_MIN_COMMANDS {
        0.40
    } else if near_edge {
        0.55
    } else {
        full
    }
}

/// §5.8
pub(crate) fn tab_completion(ctx: &SessionContext<'_>, _p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let with_tab = ctx.commands.iter().filter(|c| c.tab_count > 0).count();
    let r = with_tab as f64 / n as f64;
    let value = if r == 0.0 {
        "none"
    } else if r < TAB_COMPLETION_OCCASIONAL_MAX || r < TAB_COMPLETION_HABITUAL_MIN {
        "occasional"
    } else {
        "habitual"
    };
    let edge = near(r, TAB_COMPLETION_OCCASIONAL_MAX) || near(r, TAB_COMPLETION_HABITUAL_MIN);
    emit(value, mastery_confidence(n, edge, 0.75))
}

/// §5.9
pub(crate) fn shortcut_usage(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    let total: u64 = ctx
        .commands
        .iter()
        .map(|c| u64::from(c.shortcut_count))
        .sum();
    let r = total as f64 / n as f64;
    let value = if total == 0 || r < SHORTCUT_USAGE_MODERATE_MIN {
        "none"
    } else if r < SHORTCUT_USAGE_HEAVY_MIN {
        "moderate"
    } else {
        "heavy"
    };
    let edge = near(r, SHORTCUT_USAGE_MODERATE_MIN) || near(r, SHORTCUT_USAGE_HEAVY_MIN);
    if p == Profile::Behave014 {
        // D-CONF: the same −0.2 as every other primitive (0.65 → 0.45),
        // not the reference's flat 0.55.
        return emit(
            value,
            honest(
                if n < SHELL_MASTERY_MIN_COMMANDS {
                    0.40
                } else {
                    0.65
                },
                n,
                edge,
            ),
        );
    }
    emit(value, mastery_confidence(n, edge, 0.65))
}

/// §5.10; `behave-0.1.4`: maximum pipes in one pipeline (D-PIPES). The
/// maximum is an integer, never within 10 % of the half-integer bucket
/// edges, so rule 2 never applies; rule 1 counts commands.
pub(crate) fn pipe_chaining_depth(ctx: &SessionContext<'_>, p: Profile) -> R {
    let n = ctx.n_cmd();
    if n == 0 {
        return Ok(None);
    }
    if p == Profile::Behave014 {
        let m = ctx.commands.iter().map(|c| c.pipe_count).max().unwrap_or(0);
        let v = if m >= BEHAVE_PIPES_DEEP_MIN {
            "deep"
        } else if m >= BEHAVE_PIPES_MODERATE_MIN {
            "moderate"
        } else {
            "shallow"
        };
        return emit(
            v,
            if n < SHELL_MASTERY_MIN_COMMANDS {
                0.40
            } else {
                0.70
            },
        );
    }
    let pipes: Vec<u64> = ctx
        .commands
        .iter()
        .map(|c| u64::from(c.pipe_count))
        .collect();
    let m = median_u64(&pipes);
    let value = if m >= PIPE_CHAINING_DEEP_MEDIAN {
        "deep"
    } else if m >= PIPE_CHAINING_MODERATE_MEDIAN {
        "moderate"
    } else {
        "shallow"
    };
    let edge = near(m, PIPE_CHAINING_MODERATE_MEDIAN) || near(m, PIPE_CHAINING_DEEP_MEDIAN);
    emit(value, mastery_confidence(n, edge, 0.70))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::cps;

    #[test]
    fn simhash_vectors() {
        let ab = cps("ab:2");
        let bc = cps("bc:1");
        assert_eq!(
            format!(
                "{:016x}",
                simhash64([(ab.as_slice(), 3), (bc.as_slice(), 1)])
            ),
            "2db9606810a54cbc"
        );
        let ls = cps("ls:3");
        assert_eq!(
            format!("{:016x}", simhash64([(ls.as_slice(), 5)])),
            "819bef118ccfd1e6"
        );
        let s1 = vec![0xDCE9, 0x61, 0x3A, 0x30];
        let s2 = cps("xy:6");
        assert_eq!(
            format!(
                "{:016x}",
                simhash64([(s1.as_slice(), 2), (s2.as_slice(), 2)])
            ),
            "030401409127e804"
        );
        assert_eq!(simhash64(std::iter::empty()), 0);
    }

    /// The bit-sliced sums equal 64 plain signed lanes, for small, large
    /// and zero weights.
    #[test]
    fn bit_sliced_sums_equal_plain_lanes() {
        let mut next = crate::xorshift(7u64);
        for round in 0..200 {
            let mut sliced = SimHash::default();
            let mut lanes = [0i128; 64];
            for _ in 0..(round % 50) {
                let h = next();
                let w = match next() % 4 {
                    0 => 0,
                    1 => 1 + next() % 3,
                    2 => next() % 1000,
                    _ => next() >> 20,
                };
                sliced.add_hash(h, w);
                for (i, a) in lanes.iter_mut().enumerate() {
                    *a += if (h >> i) & 1 == 1 { 1 } else { -1 } * i128::from(w);
                }
            }
            assert_eq!(sliced.sums(), lanes);
            let want = (0..64)
                .filter(|&i| lanes[i] > 0)
                .fold(0u64, |h, i| h | 1 << i);
            assert_eq!(sliced.finish(), want);
        }
    }

    /// The memoised digraph tokens hash as the plain tokens do, on a first
    /// (filling) and a second (hitting) pass, with enough distinct tokens
    /// that slots are shared and overwritten.
    #[test]
    fn digraph_memo_equals_plain_tokens() {
        let pairs: Vec<(u32, u32, u32)> = (0x20..0x7F)
            .flat_map(|a| [(a, 0x61, 2), (a, 0xDCE9, 6), (0x10FFFF, a, 0)])
            .chain((0..7).map(|k| (0x6C, 0x73, k)))
            .cycle()
            .take(20_000)
            .collect();
        let mut slots = vec![(0, 0); TOKEN_MEMO_SLOTS];
        for _ in 0..2 {
            let (mut memo, mut plain) = (SimHash::default(), SimHash::default());
            for (n, &(a, b, k)) in pairs.iter().enumerate() {
                let w = 1 + (n % 5) as u64;
                memo.add_digraph(&mut slots, a, b, k, w);
                plain.add(&[a, b, u32::from(b':'), u32::from(b'0') + k], w);
                if n % 997 == 0 {
                    assert_eq!(memo.sums(), plain.sums());
                }
            }
            assert_eq!(memo.sums(), plain.sums());
            assert_eq!(memo.finish(), plain.finish());
        }
    }

    /// Grouping by table and counting sort gives each digraph's flights,
    /// sorted, exactly as sorting all flights by (digraph, flight) does.
    #[test]
    fn digraph_groups_equal_a_sort() {
        let mut next = crate::xorshift(0xD16A);
        for round in 0..300 {
            let n = (next() % 400) as usize;
            let alphabet = 1 + (round % 40) as u64;
            let flights: Vec<(u64, f64)> = (0..n)
                .map(|_| {
                    let (a, b) = (next() % alphabet, 0x10_FFFF - next() % 3);
                    let dt = (1 + next() % 1500) as f64 / 1000.0;
                    ((a << 32) | b, dt)
                })
                .collect();
            let mut want = flights.clone();
            want.sort_unstable_by_key(|f| (f.0, f.1.to_bits()));
            let want: Vec<(u64, Vec<u64>)> = want
                .chunk_by(|x, y| x.0 == y.0)
                .map(|g| (g[0].0, g.iter().map(|f| f.1.to_bits()).collect()))
                .collect();
            let groups = DigraphGroups::of(&flights);
            let mut got: Vec<(u64, Vec<u64>)> =
                groups.runs().map(|(k, r)| (k, r.to_vec())).collect();
            got.sort_unstable();
            assert_eq!(groups.len(), want.len());
            assert_eq!(got, want);
        }
    }

    #[test]
    fn digraph_confidence_steps() {
        let c = |d: usize| py_min(0.95, 0.40 + 0.05 * d as f64);
        assert_eq!(c(8), 0.8);
        assert_eq!(c(9), 0.8500000000000001);
        assert_eq!(c(10), 0.9);
        assert_eq!(c(11), 0.95);
        assert_eq!(c(30), 0.95);
    }
}
