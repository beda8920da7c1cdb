//! The 7-day CPU curve: diurnal online work in the configured time zone, and offline work that
//! fills the 01:00-06:00 window (weakly on one day, and spilling to ~08:30 on rack 5).
//!
//! Every point is a pure function of (seed, rack, time), so the curve recomputed later has the
//! same past.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::model::{CpuCurve, CpuPoint, RackCurve};

use super::SimConfig;
use super::incidents::Incidents;
use super::noise::{hash3, signed, smooth, unit};
use super::topology::{CORES, rack_sizes};

pub(crate) const STEP_S: i64 = 300;
pub(crate) const POINTS: usize = 7 * 288;

const WINDOW_START_H: f64 = 1.0;
const WINDOW_END_H: f64 = 6.0;
const FILL_TARGET: f64 = 0.80;
const UNDERFILL_TARGET: f64 = 0.45;
/// On the spill rack, offline work stays until 08:00 and is gone by 08:30.
const SPILL_UNTIL_H: f64 = 8.0;
const SPILL_GONE_H: f64 = 8.5;

/// Koordinator's `cpuReclaimThresholdPercent` in the simulated cluster's ColocationStrategy (the
/// default is 60; this cluster reclaims up to 85 % for its night-time batch work). The batch
/// tier's allocatable is that share of capacity less the online work's use (the slo-controller's
/// `usage` policy), never below zero.
pub(crate) const RECLAIM_THRESHOLD: f64 = 0.85;

/// Reclaimed cores of `cap` cores whose online work uses the share `online`.
pub(crate) fn reclaimed(cap: f64, online: f64) -> f64 {
    (RECLAIM_THRESHOLD * cap - online * cap).max(0.0)
}

/// The 5-minute bucket `t` falls in.
pub(crate) fn bucket(t: DateTime<Utc>) -> i64 {
    t.timestamp().div_euclid(STEP_S)
}

#[derive(Debug, Clone)]
pub(crate) struct CpuModel {
    seed: u64,
    tz: Tz,
    rack_caps: Vec<f64>,
    rack_factor: Vec<f64>,
    underfill_day: Option<NaiveDate>,
    spill_rack: Option<usize>,
}

/// What every rack shares at one instant: the local time of day and the day's character.
struct Local {
    t: i64,
    h: f64,
    day_factor: f64,
    day_fill: f64,
}

impl CpuModel {
    pub(crate) fn new(cfg: &SimConfig, inc: &Incidents, start: DateTime<Utc>) -> Self {
        let sizes = rack_sizes(cfg.nodes);
        let seed = cfg.seed ^ 0x4350_5543;
        CpuModel {
            seed,
            tz: cfg.tz,
            rack_caps: sizes.iter().map(|&s| s as f64 * f64::from(CORES)).collect(),
            rack_factor: (0..sizes.len()).map(|r| 0.9 + 0.2 * unit(hash3(seed, 1, r as u64))).collect(),
            underfill_day: inc
                .underfill
                .then(|| start.with_timezone(&cfg.tz).date_naive())
                .and_then(|d| d.checked_sub_days(chrono::Days::new(2))),
            spill_rack: inc.spill_rack,
        }
    }

    fn local(&self, t: DateTime<Utc>) -> Local {
        let lt = self.tz.from_utc_datetime(&t.naive_utc());
        let h = f64::from(lt.hour()) + f64::from(lt.minute()) / 60.0 + f64::from(lt.second()) / 3600.0;
        let date = lt.date_naive();
        let day = date.num_days_from_ce() as u64;
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let day_factor = if weekend { 0.88 } else { 1.0 } * (1.0 + 0.03 * signed(hash3(self.seed, 2, day)));
        let target = if Some(date) == self.underfill_day { UNDERFILL_TARGET } else { FILL_TARGET };
        let day_fill = target + 0.015 * signed(hash3(self.seed, 3, day));
        Local { t: t.timestamp(), h, day_factor, day_fill }
    }

    /// Online and offline utilisation (shares of capacity) of rack `r` at `l`.
    fn util(&self, r: usize, l: &Local) -> (f64, f64) {
        let rf = self.rack_factor.get(r).copied().unwrap_or(1.0);
        let ch = 10 + r as u64 * 4;
        let phase = (l.h - 4.5) / 24.0 * std::f64::consts::TAU;
        let evening = 0.04 * (-((l.h - 20.0) / 1.5).powi(2)).exp();
        let diurnal = 0.40 - 0.20 * phase.cos() + evening;
        let noise =
            0.025 * smooth(self.seed, ch, l.t, 3600) + 0.006 * signed(hash3(self.seed, ch + 1, l.t as u64));
        let online = (diurnal * l.day_factor * rf + noise).clamp(0.03, 0.95);

        let base = 0.03 + 0.02 * unit(hash3(self.seed, ch + 2, l.t.div_euclid(STEP_S) as u64));
        let spills = self.spill_rack == Some(r + 1);
        // How much of the fill level applies: ramp up at 01:00, down at 06:00 (or 08:00-08:30).
        let share = if l.h >= WINDOW_START_H && l.h < WINDOW_END_H {
            ((l.h - WINDOW_START_H) * 12.0 + 0.5).min(1.0)
        } else if spills && l.h >= WINDOW_END_H && l.h < SPILL_UNTIL_H {
            1.0
        } else if spills && l.h >= SPILL_UNTIL_H && l.h < SPILL_GONE_H {
            1.0 - (l.h - SPILL_UNTIL_H) / (SPILL_GONE_H - SPILL_UNTIL_H)
        } else if !spills && l.h >= WINDOW_END_H && l.h < WINDOW_END_H + 1.0 / 12.0 {
            0.3 - (l.h - WINDOW_END_H) * 3.6
        } else {
            0.0
        };
        let fill = (l.day_fill + 0.01 * signed(hash3(self.seed, ch + 3, l.t as u64)) - online).max(base);
        let offline = (base + (fill - base) * share.clamp(0.0, 1.0)).clamp(0.0, 1.0 - online);
        (online, offline)
    }

    /// Total utilisation (0..1) of every rack at `t`, for per-node `cpu_now`.
    pub(crate) fn rack_utils(&self, t: DateTime<Utc>) -> Vec<f64> {
        let l = self.local(t);
        (0..self.rack_caps.len())
            .map(|r| {
                let (on, off) = self.util(r, &l);
                on + off
            })
            .collect()
    }

    /// Online and offline shares of capacity of every rack at `t` (for `sim openmetrics`).
    pub(crate) fn rack_shares(&self, t: DateTime<Utc>) -> Vec<(f64, f64)> {
        let l = self.local(t);
        (0..self.rack_caps.len()).map(|r| self.util(r, &l)).collect()
    }

    /// 7 days at 5-minute steps, ending at the last 5-minute boundary at or before `now`. The point
    /// at `t` describes `(t - 5 min, t]`: the model at the middle of that interval.
    pub(crate) fn curve(&self, now: DateTime<Utc>) -> CpuCurve {
        let end = bucket(now) * STEP_S;
        let racks = self.rack_caps.len();
        let mut rack_points: Vec<Vec<CpuPoint>> = (0..racks).map(|_| Vec::with_capacity(POINTS)).collect();
        let mut points = Vec::with_capacity(POINTS);
        for k in 0..POINTS as i64 {
            let ts = end - (POINTS as i64 - 1 - k) * STEP_S;
            let Some(t) = DateTime::<Utc>::from_timestamp(ts, 0) else { continue };
            let l = self.local(t - chrono::Duration::seconds(STEP_S / 2));
            let (mut on_sum, mut off_sum, mut rec_sum) = (0.0, 0.0, 0.0);
            for (r, pts) in rack_points.iter_mut().enumerate() {
                let cap = self.rack_caps[r];
                let (on, off) = self.util(r, &l);
                let p = CpuPoint {
                    reclaimed: Some(reclaimed(cap, on)),
                    ..CpuPoint::new(t, on * cap, off * cap, cap)
                };
                on_sum += p.online;
                off_sum += p.offline;
                rec_sum += p.reclaimed.unwrap_or(0.0);
                pts.push(p);
            }
            let cap = self.rack_caps.iter().sum();
            points.push(CpuPoint { reclaimed: Some(rec_sum), ..CpuPoint::new(t, on_sum, off_sum, cap) });
        }
        CpuCurve {
            step_s: STEP_S as u32,
            capacity_cores: self.rack_caps.iter().sum(),
            points,
            racks: rack_points
                .into_iter()
                .enumerate()
                .map(|(r, points)| RackCurve {
                    rack: format!("rack-{}", r + 1),
                    capacity_cores: self.rack_caps[r],
                    points,
                })
                .collect(),
        }
    }
}
