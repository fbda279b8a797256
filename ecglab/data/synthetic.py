"""SYNTHETIC ECG records, so that the whole course runs offline.

*** EVERYTHING THIS MODULE RETURNS IS SYNTHETIC: made by a formula, NOT recorded from patients. ***
It is good for learning how the pipeline works (cutting beats, training a CNN, transfer learning)
and for tests. It says nothing about how well a method works on real ECGs: a score on these
records is not a clinical or scientific result.

The model
---------
Every beat is a sum of Gaussian waves, the idea of ECGSYN (McSharry et al. 2003, IEEE TBME 50:289)
written in time rather than in phase. Wave ``j`` of beat ``k`` has an offset ``theta`` (s, from the
beat's QRS), an amplitude ``a`` (mV) and a width ``sigma`` (s), and a record is::

    x(t) = gain(t) * sum_k sum_j a_kj * exp(-(t - t_k - theta_kj)**2 / (2 * sigma_kj**2)) + noise(t)

* ``t_k`` are the beat times: a sinus R-R interval (heart rate 50-110 bpm) modulated by breathing
  and slow (0.1 Hz) waves, shortened for premature beats and lengthened for the pause after them;
  irregular in atrial fibrillation, almost constant under a pacemaker.
* Each record is its own synthetic "patient": the amplitudes, widths and timing of its P, Q, R,
  S and T waves are drawn at random once per record; every beat then varies a little around them.
* The beat types follow the AAMI classes (see :mod:`ecglab.data.aami`):

  =====  =======================================================================================
  N      ``N`` normal; ``L``/``R`` bundle-branch block: wide (> 120 ms), notched QRS;
         ``j`` junctional escape: late, no P wave
  S      ``A`` atrial premature: R-R 20-40 % short, odd or missing P, normal QRS, a pause that is
         not compensatory; ``a`` the same with an aberrant (wider) QRS; ``J`` junctional: no P
  V      ``V`` premature, no P, wide bizarre QRS (often of the opposite polarity), a large T of the
         opposite sign, a compensatory pause; ``E`` ventricular escape: the same shape, late
  F      ``F`` fusion: a shape halfway between the record's normal beat and its ``V`` at near-normal
         timing
  Q      ``/`` paced (70-85 bpm): a pacing spike, then a wide QRS; ``f`` fusion of a paced and a
         normal beat; ``Q`` a beat buried in a burst of artefact
  =====  =======================================================================================

* ``noise(t)``: baseline wander (< 0.5 Hz), mains hum (60 Hz for MIT-BIH, recorded in Boston;
  50 Hz for PTB, recorded in Berlin), white noise, fibrillatory waves in atrial fibrillation; and
  ``gain(t)``: breathing and a slow amplitude drift (large in some records).
* The R height (median 1.7 mV), its width, the wander and the beat-to-beat variation are sized
  as on the cleaner real normal-rhythm MIT-BIH records (MLII at 125 Hz): within a 10-s window
  the R peaks of normal beats vary by 2-3 % of the window's range (standard deviation), so
  lesson 1's threshold detector (min-max normalise, maxima >= 0.9) finds over 90 % of the beats
  of a normal-rhythm record.
  Records with tall ectopic beats score lower, as real ones do: their ``V`` or ``F`` beats set
  the window's maximum.

The MIT-BIH-like records reuse the 48 real record names with a rhythm and class mix loosely
modelled on each real record (``109`` left bundle-branch block, ``208`` many V and F, the paced
``102 104 107 217`` ...), so the inter-patient split DS1/DS2 works unchanged. Ectopic beats are
much more common than in the real database so that every class is well represented: over the 48
records about N 70 %, S 9 %, V 10 %, F 4 %, Q 7 % of 8 000 beats at the default 120 s per record.

>>> records = synthetic_mitbih_records(seed=0)      # 48 SYNTHETIC records at 360 Hz, lead MLII
>>> ptb = synthetic_ptb_records(seed=0)             # 40 SYNTHETIC records at 1000 Hz, lead ii
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .records import Record

#: The 48 record names of the MIT-BIH Arrhythmia Database (the synthetic records reuse them).
MITBIH_NAMES = (
    "100", "101", "102", "103", "104", "105", "106", "107", "108", "109",
    "111", "112", "113", "114", "115", "116", "117", "118", "119",
    "121", "122", "123", "124",
    "200", "201", "202", "203", "205", "207", "208", "209", "210",
    "212", "213", "214", "215", "217", "219", "220", "221", "222", "223",
    "228", "230", "231", "232", "233", "234",
)
FS_MITBIH = 360.0  # Hz, as the real MIT-BIH records
FS_PTB = 1000.0    # Hz, as the real PTB records

SYNTHETIC_NOTE = "SYNTHETIC record made by ecglab.data.synthetic; not recorded from a patient"

# Kinds of wave. Only QRS waves decide where the R fiducial point goes; T waves move with the
# heart rate (the QT interval shortens when the R-R interval does); each beat draws its own
# ARTEFACT wiggles; FLAT waves (amplitude 0) only pad templates to a common length.
P_WAVE, QRS, T_WAVE, SPIKE, ARTEFACT, FLAT = range(6)


# --- the record table -------------------------------------------------------------------------

class Profile(NamedTuple):
    """What a synthetic record is like.

    Attributes
    ----------
    mix : dict
        Annotation symbol -> share of the beats in percent.
    rhythm : str
        ``"sinus"``, ``"af"`` (atrial fibrillation: no P waves, irregular R-R) or ``"paced"``.
    noise : float
        Multiplies the record's noise levels.
    resting : bool
        A resting ECG (PTB) rather than an ambulatory one (MIT-BIH): steadier, with less
        beat-to-beat variation, a smaller breathing modulation and no amplitude drift.
    """

    mix: dict
    rhythm: str = "sinus"
    noise: float = 1.0
    resting: bool = False


# Loosely modelled on the real records (their dominant rhythm and kinds of ectopic beat), with
# ectopic beats several times more common than in the real database.
MITBIH_PROFILES = {
    "100": Profile({"N": 86, "A": 14}),
    "101": Profile({"N": 95, "A": 5}),
    "102": Profile({"/": 84, "f": 10, "N": 4, "V": 2}, "paced"),
    "103": Profile({"N": 97, "A": 3}),
    "104": Profile({"/": 62, "f": 28, "N": 8, "Q": 2}, "paced"),
    "105": Profile({"N": 87, "V": 7, "Q": 6}, noise=2.5),
    "106": Profile({"N": 63, "V": 37}),
    "107": Profile({"/": 93, "V": 7}, "paced"),
    "108": Profile({"N": 79, "V": 6, "A": 5, "F": 10}, noise=1.5),
    "109": Profile({"L": 83, "V": 6, "F": 11}),
    "111": Profile({"L": 98, "V": 2}),
    "112": Profile({"N": 96, "A": 4}),
    "113": Profile({"N": 86, "a": 14}),
    "114": Profile({"N": 72, "V": 7, "A": 11, "J": 3, "F": 7}),
    "115": Profile({"N": 100}),
    "116": Profile({"N": 85, "V": 12, "A": 3}),
    "117": Profile({"N": 97, "A": 3}),
    "118": Profile({"R": 70, "A": 24, "V": 6}),
    "119": Profile({"N": 66, "V": 34}),
    "121": Profile({"N": 97, "A": 3}),
    "122": Profile({"N": 100}),
    "123": Profile({"N": 95, "V": 5}),
    "124": Profile({"R": 68, "J": 14, "V": 7, "F": 11}),
    "200": Profile({"N": 44, "V": 37, "A": 11, "F": 8}),
    "201": Profile({"N": 55, "a": 19, "A": 8, "V": 12, "F": 6}),
    "202": Profile({"N": 73, "A": 14, "a": 5, "V": 4, "F": 4}),
    "203": Profile({"N": 64, "V": 24, "F": 8, "Q": 4}, "af", noise=2.0),
    "205": Profile({"N": 76, "V": 10, "F": 14}),
    "207": Profile({"L": 55, "R": 7, "A": 16, "V": 12, "E": 10}),
    "208": Profile({"N": 36, "V": 36, "F": 28}),
    "209": Profile({"N": 65, "A": 35}),
    "210": Profile({"N": 74, "V": 15, "F": 11}, "af"),
    "212": Profile({"N": 40, "R": 60}),
    "213": Profile({"N": 52, "V": 12, "F": 28, "A": 7, "a": 1}),
    "214": Profile({"L": 75, "V": 17, "F": 8}),
    "215": Profile({"N": 79, "V": 11, "A": 4, "F": 6}),
    "217": Profile({"/": 64, "f": 14, "N": 10, "V": 12}, "paced"),
    "219": Profile({"N": 84, "V": 10, "F": 6}, "af"),
    "220": Profile({"N": 78, "A": 22}),
    "221": Profile({"N": 73, "V": 27}, "af"),
    "222": Profile({"N": 60, "j": 12, "A": 24, "J": 4}),
    "223": Profile({"N": 48, "V": 23, "A": 18, "F": 11}),
    "228": Profile({"N": 70, "V": 27, "A": 3}),
    "230": Profile({"N": 100}),
    "231": Profile({"R": 75, "N": 24, "A": 1}),
    "232": Profile({"R": 26, "A": 74}),
    "233": Profile({"N": 55, "V": 34, "F": 8, "A": 3}),
    "234": Profile({"N": 84, "J": 14, "V": 2}),
}
#: The profile of a name that is not in the table.
DEFAULT_PROFILE = Profile({"N": 88, "A": 4, "V": 6, "F": 2})

# Timing of each beat type: its R-R interval as a multiple of the sinus R-R interval.
# Premature beats come early, escape beats late; everything else is on time (1.0).
COUPLING = {
    "A": (0.60, 0.80), "a": (0.60, 0.75), "J": (0.65, 0.80),   # supraventricular premature
    "V": (0.55, 0.75), "F": (0.90, 1.00),                        # ventricular premature, fusion
    "E": (1.30, 1.60), "j": (1.15, 1.40),                        # escape beats
    "f": (0.97, 1.00),                                           # paced fusion
}
SUPRAVENTRICULAR_PREMATURE = ("A", "a", "J")
#: The shortest R-R interval in s: the ventricles cannot be excited again during most of the QT.
MIN_RR = 0.3


# --- Gaussian waves ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Waves:
    """Gaussian waves: of one beat template (1-D arrays) or of many beats (2-D, one row a beat).

    Attributes
    ----------
    kind : ndarray, shape (..., n_waves), int
        ``P_WAVE``, ``QRS``, ``T_WAVE``, ``SPIKE``, ``ARTEFACT`` or ``FLAT``.
    offset : ndarray, shape (..., n_waves), float
        Centre of each wave, in s from the beat's time (negative: before the QRS).
    amplitude : ndarray, shape (..., n_waves), float
        Peak value in mV (negative waves point down).
    width : ndarray, shape (..., n_waves), float
        Standard deviation of the Gaussian, in s.
    """

    kind: np.ndarray
    offset: np.ndarray
    amplitude: np.ndarray
    width: np.ndarray

    def scaled(self, factor: float) -> "Waves":
        """The same waves with every amplitude multiplied by ``factor``."""
        return Waves(self.kind, self.offset, self.amplitude * factor, self.width)

    def only(self, kind: int) -> "Waves":
        """The waves of ``kind``."""
        return self._select(self.kind == kind)

    def without(self, kind: int) -> "Waves":
        """The waves that are not of ``kind``."""
        return self._select(self.kind != kind)

    def _select(self, keep: np.ndarray) -> "Waves":
        return Waves(self.kind[keep], self.offset[keep], self.amplitude[keep], self.width[keep])

    def padded(self, n: int) -> "Waves":
        """Padded to ``n`` waves with flat ones (amplitude 0), so templates stack into arrays."""
        extra = n - len(self.kind)
        return Waves(np.r_[self.kind, np.full(extra, FLAT)], np.r_[self.offset, np.zeros(extra)],
                     np.r_[self.amplitude, np.zeros(extra)], np.r_[self.width, np.full(extra, 0.01)])


def _waves(*rows: tuple) -> Waves:
    """Waves from rows of ``(kind, offset s, amplitude mV, width s)``."""
    kind, offset, amplitude, width = (np.array(col, dtype=float) for col in zip(*rows))
    return Waves(kind.astype(np.int64), offset, amplitude, width)


def _join(*parts: Waves) -> Waves:
    """All waves of ``parts`` in one beat."""
    return Waves(*(np.concatenate([getattr(p, f) for p in parts])
                   for f in ("kind", "offset", "amplitude", "width")))


def _blend(a: Waves, b: Waves, w: float) -> Waves:
    """A fusion beat: ``(1 - w) * a + w * b``, except that the P waves of ``a`` keep their size
    (the atria were activated as usual; only the ventricles were activated from two sides)."""
    keep_p = np.where(a.kind == P_WAVE, 1.0, 1.0 - w)
    return _join(Waves(a.kind, a.offset, a.amplitude * keep_p, a.width), b.scaled(w))


def _render(times: np.ndarray, beats: Waves, n_samples: int, fs: float) -> np.ndarray:
    """Sum the Gaussian waves of all beats into one signal.

    Each wave is evaluated only within 4 standard deviations of its centre (beyond that it is
    below 0.04 % of its peak), so the cost grows with the number of beats, not with their product
    with the signal length.

    Parameters
    ----------
    times : ndarray, shape (n_beats,)
        Beat times in s.
    beats : Waves with arrays of shape (n_beats, n_waves)
    n_samples : int
    fs : float
        Sampling rate in Hz.

    Returns
    -------
    ndarray, shape (n_samples,), float64, in mV
    """
    centre = times[:, None] + beats.offset                      # (n_beats, n_waves), s
    half = int(np.ceil(4 * beats.width.max() * fs))
    index = np.rint(centre * fs).astype(np.int64)[..., None] + np.arange(-half, half + 1)
    z = (index / fs - centre[..., None]) / beats.width[..., None]
    values = beats.amplitude[..., None] * np.exp(-0.5 * z * z)  # (n_beats, n_waves, 2*half+1)
    inside = (index >= 0) & (index < n_samples)
    return np.bincount(index[inside], weights=values[inside], minlength=n_samples)


def _qrs_peaks(times: np.ndarray, beats: Waves, fs: float, search: float = 0.1) -> np.ndarray:
    """The R fiducial point of each beat: the sample where its QRS deflects most from zero.

    Only QRS waves count (not P, T, a pacing spike or artefact), so the annotation sits on the QRS
    peak, on its trough for a beat whose main deflection points down.

    Parameters
    ----------
    times : ndarray, shape (n_beats,)
        Beat times in s.
    beats : Waves with arrays of shape (n_beats, n_waves)
    fs : float
        Sampling rate in Hz.
    search : float
        Half-width in s of the interval around each beat time that is searched.

    Returns
    -------
    ndarray, shape (n_beats,), int64 sample indices (may fall outside the signal near its ends)
    """
    half = int(search * fs)
    grid = np.rint(times * fs).astype(np.int64)[:, None] + np.arange(-half, half + 1)
    amplitude = np.where(beats.kind == QRS, beats.amplitude, 0.0)
    z = (grid[:, :, None] / fs - (times[:, None] + beats.offset)[:, None, :]) / beats.width[:, None, :]
    qrs = (amplitude[:, None, :] * np.exp(-0.5 * z * z)).sum(axis=2)  # (n_beats, n_grid), mV
    return grid[np.arange(len(times)), np.abs(qrs).argmax(axis=1)]


# --- beat templates: one synthetic patient ------------------------------------------------------

def _sinus_template(rng: np.random.Generator, r_amplitude: float) -> Waves:
    """A normal beat (at an R-R interval of 1 s), six waves in this order: P, Q, R, S, and a T
    wave made of two (a small broad one before the main one gives it a gradual upstroke).

    Parameters
    ----------
    rng : numpy Generator
    r_amplitude : float
        Height of the R wave in mV.

    Returns
    -------
    Waves with arrays of shape (6,)
    """
    r = r_amplitude
    t_amp = rng.uniform(0.12, 0.45) if rng.random() > 0.1 else rng.uniform(-0.1, 0.05)  # some flat T
    t_at, t_width = rng.uniform(0.25, 0.32), rng.uniform(0.04, 0.065)
    return _waves(
        (P_WAVE, -rng.uniform(0.15, 0.21), rng.uniform(0.08, 0.22), rng.uniform(0.018, 0.03)),
        (QRS, -rng.uniform(0.022, 0.03), -r * rng.uniform(0.0, 0.15), rng.uniform(0.006, 0.01)),
        # 24-35 ms wide at half height, as in MLII; a narrower R loses up to 10 % of its height at
        # 125 Hz, depending on where the samples fall.
        (QRS, 0.0, r, rng.uniform(0.010, 0.015)),
        (QRS, rng.uniform(0.022, 0.032), -r * rng.uniform(0.05, 0.35), rng.uniform(0.007, 0.012)),
        (T_WAVE, t_at - 0.08, 0.3 * t_amp, 1.2 * t_width),
        (T_WAVE, t_at, t_amp, t_width),
    )


def _left_bundle_branch_block(rng: np.random.Generator, r: float, p_wave: Waves) -> Waves:
    """``L``: a broad (> 120 ms), notched R with no Q, and a T wave of the opposite sign.

    Parameters
    ----------
    r : float
        Height of the patient's normal R wave, mV.
    p_wave : Waves
        The patient's P wave (the atria work as usual).
    """
    return _join(p_wave, _waves(
        (QRS, -0.025, 0.75 * r, rng.uniform(0.016, 0.02)),
        (QRS, 0.02, r, rng.uniform(0.018, 0.022)),
        (QRS, 0.075, -0.1 * r, 0.012),
        (T_WAVE, 0.2, -0.1 * r, 0.06),
        (T_WAVE, rng.uniform(0.28, 0.34), -r * rng.uniform(0.15, 0.3), rng.uniform(0.05, 0.07)),
    ))


def _right_bundle_branch_block(rng: np.random.Generator, r: float, p_wave: Waves) -> Waves:
    """``R``: R, then a broad slurred S and a late small R' (QRS > 120 ms), a low T wave.

    Parameters are those of :func:`_left_bundle_branch_block`.
    """
    return _join(p_wave, _waves(
        (QRS, -0.025, -0.05 * r, 0.008),
        (QRS, 0.0, r, rng.uniform(0.009, 0.012)),
        (QRS, rng.uniform(0.035, 0.045), -r * rng.uniform(0.2, 0.4), rng.uniform(0.017, 0.022)),
        (QRS, rng.uniform(0.07, 0.08), r * rng.uniform(0.15, 0.3), rng.uniform(0.014, 0.018)),
        (T_WAVE, rng.uniform(0.28, 0.33), r * rng.uniform(-0.15, 0.1), 0.06),
    ))


def _ventricular_template(rng: np.random.Generator, r_amplitude: float,
                          sign: float | None = None) -> Waves:
    """``V``: no P; a wide (120-180 ms), large QRS of either polarity; a large T of the other sign.

    Parameters
    ----------
    sign : float, optional
        +1 or -1, the polarity of the main QRS deflection (random when None).
    """
    sign = rng.choice([-1.0, 1.0]) if sign is None else sign
    main = sign * r_amplitude * rng.uniform(1.0, 1.9)
    width = rng.uniform(0.028, 0.042)
    return _waves(
        (QRS, -rng.uniform(0.04, 0.06), -main * rng.uniform(0.1, 0.3), 0.7 * width),
        (QRS, 0.0, main, width),
        (QRS, rng.uniform(0.045, 0.07), -main * rng.uniform(0.2, 0.5), width * rng.uniform(0.8, 1.2)),
        (T_WAVE, 0.17, -main * rng.uniform(0.05, 0.15), 0.05),
        (T_WAVE, rng.uniform(0.28, 0.35), -main * rng.uniform(0.3, 0.55), rng.uniform(0.06, 0.085)),
    )


def _paced_template(rng: np.random.Generator, r_amplitude: float) -> Waves:
    """``/``: a pacing spike (2 ms wide) 50-80 ms before a wide QRS, like a ventricular beat.

    A right-ventricular pacemaker activates the ventricles from the apex, so the QRS mostly points
    down in lead MLII.
    """
    spike = _waves((SPIKE, -rng.uniform(0.05, 0.08), rng.choice([-1.0, 1.0]) * rng.uniform(0.4, 1.2), 0.0015))
    sign = -1.0 if rng.random() < 0.75 else 1.0
    return _join(spike, _ventricular_template(rng, r_amplitude, sign))


def _artefact_template(n: int = 8) -> Waves:
    """``n`` slots for the wiggles of a burst of artefact; each beat draws its own (:func:`_jitter`)."""
    return _waves(*[(ARTEFACT, 0.0, 0.0, 0.01)] * n)


def _patient_templates(rng: np.random.Generator, base: str, rhythm: str) -> dict[str, Waves]:
    """The beat templates of one synthetic patient, one per template key.

    The keys are the annotation symbols, plus ``"V2"``: a second ventricular focus (a ``V`` beat
    of another shape). Supraventricular beats and fusion beats are built on ``base``, the record's
    usual conducted beat (``"N"``, ``"L"`` or ``"R"``).

    Parameters
    ----------
    base : str
    rhythm : str
        ``"af"`` removes every P wave.

    Returns
    -------
    dict of str -> Waves (1-D arrays)
    """
    r = float(np.exp(rng.normal(np.log(1.7), 0.25)).clip(0.7, 3.0))  # R height in MLII, mV
    shapes = {"N": _sinus_template(rng, r)}
    shapes["L"] = _left_bundle_branch_block(rng, r, shapes["N"].only(P_WAVE))
    shapes["R"] = _right_bundle_branch_block(rng, r, shapes["N"].only(P_WAVE))
    if rhythm == "af":  # the atria fibrillate: no P waves
        shapes = {k: v.without(P_WAVE) for k, v in shapes.items()}
    usual = shapes[base]

    # Atrial premature beats: the P wave comes from an ectopic focus, so it has another shape.
    p = usual.kind == P_WAVE
    ectopic_p = Waves(usual.kind, np.where(p, -rng.uniform(0.10, 0.24), usual.offset),
                      np.where(p, usual.amplitude * rng.uniform(-0.8, 0.6), usual.amplitude),
                      np.where(p, usual.width * rng.uniform(0.8, 1.3), usual.width))
    shapes["A"] = ectopic_p
    qrs = ectopic_p.kind == QRS  # aberrant conduction: a wider QRS with a deeper S
    shapes["a"] = Waves(ectopic_p.kind, np.where(qrs, ectopic_p.offset * 1.6, ectopic_p.offset),
                   np.where(qrs & (ectopic_p.amplitude < 0), ectopic_p.amplitude * 1.5, ectopic_p.amplitude),
                   np.where(qrs, ectopic_p.width * rng.uniform(1.6, 2.2), ectopic_p.width))
    # Junctional beats: no P before the QRS, sometimes a retrograde (inverted) one after it.
    retrograde_p = _waves((P_WAVE, rng.uniform(0.05, 0.09), -rng.uniform(0.0, 0.12), 0.02))
    shapes["J"] = _join(usual.without(P_WAVE), retrograde_p)
    shapes["j"] = shapes["J"]

    shapes["V"] = _ventricular_template(rng, r)
    shapes["V2"] = _ventricular_template(rng, r)
    shapes["E"] = _ventricular_template(rng, r)
    shapes["F"] = _blend(usual, shapes["V"], rng.uniform(0.35, 0.65))
    shapes["/"] = _paced_template(rng, r)
    paced_qrs = shapes["/"].without(SPIKE)
    shapes["f"] = _join(shapes["/"].only(SPIKE), _blend(shapes["N"], paced_qrs, rng.uniform(0.3, 0.7)))
    shapes["Q"] = _join(usual, _artefact_template())
    return shapes


# --- beat times ---------------------------------------------------------------------------------

def _sinus_intervals(rng: np.random.Generator, n: int, rr: float, rhythm: str) -> np.ndarray:
    """``n`` R-R intervals (s) of the record's underlying rhythm, before any ectopic beat.

    Sinus: respiratory sinus arrhythmia (0.15-0.4 Hz) and slow 0.1-Hz waves, 3-11 % in all, plus
    jitter. Atrial fibrillation: independent, irregular intervals (coefficient of variation about
    0.2). Paced: the pacing interval, almost constant.
    """
    if rhythm == "af":
        cv = rng.uniform(0.15, 0.25)
        return rr * rng.gamma(1 / cv**2, cv**2, n).clip(0.5, 2.0)
    if rhythm == "paced":
        return rr * (1 + 0.003 * rng.standard_normal(n))
    t = np.arange(n) * rr  # approximate beat times, enough to sample the slow modulations
    phase = rng.uniform(0, 2 * np.pi, 2)
    breathing = rng.uniform(0.02, 0.07) * np.sin(2 * np.pi * rng.uniform(0.15, 0.4) * t + phase[0])
    mayer = rng.uniform(0.01, 0.04) * np.sin(2 * np.pi * 0.1 * t + phase[1])
    return rr * (1 + breathing + mayer + 0.015 * rng.standard_normal(n))


def _beat_intervals(rng: np.random.Generator, symbols: np.ndarray, sinus: np.ndarray,
                    rhythm: str) -> np.ndarray:
    """The R-R interval (s) that ends at each beat, given the beat types.

    A premature beat comes early (:data:`COUPLING`). The beat after it comes after a pause:
    a compensatory one after ``V`` (the sinus node was not reset: the two intervals add up to two
    sinus intervals), a shorter one after ``A a J`` (the sinus node was reset). Under a pacemaker
    the pacing interval simply restarts; a normal beat there comes a little before the pacer fires.

    Parameters
    ----------
    symbols : ndarray, shape (n,), str
    sinus : ndarray, shape (n,), s
        :func:`_sinus_intervals`.
    rhythm : str

    Returns
    -------
    ndarray, shape (n,), s, at least :data:`MIN_RR`
    """
    n = len(symbols)
    factor = np.ones(n)
    for symbol, (low, high) in COUPLING.items():
        mask = symbols == symbol
        factor[mask] = rng.uniform(low, high, mask.sum())
    if rhythm == "paced":
        mask = symbols == "N"
        factor[mask] = rng.uniform(0.85, 0.97, mask.sum())

    on_time = ~np.isin(symbols, list(COUPLING)) & ~((rhythm == "paced") & (symbols == "N"))
    after_v = on_time & np.r_[False, symbols[:-1] == "V"]
    after_s = on_time & np.r_[False, np.isin(symbols[:-1], SUPRAVENTRICULAR_PREMATURE)]
    if rhythm == "sinus":
        factor[after_v] = 2.0 - factor[np.flatnonzero(after_v) - 1]   # compensatory pause
    else:  # no sinus node to keep time: the pacer restarts, or fibrillation goes on
        factor[after_v] = rng.uniform(1.0, 1.15, after_v.sum())
    factor[after_s] = rng.uniform(1.05, 1.25, after_s.sum())        # not compensatory
    return np.maximum(sinus * factor, MIN_RR)


# --- noise --------------------------------------------------------------------------------------

def _noise(rng: np.random.Generator, n_samples: int, fs: float, mains_hz: float,
           level: float = 1.0, fibrillation: bool = False) -> np.ndarray:
    """Additive noise: baseline wander, mains hum, white noise, and fibrillatory waves.

    Parameters
    ----------
    n_samples : int
    fs : float
        Sampling rate in Hz.
    mains_hz : float
        Mains frequency (50 or 60 Hz).
    level : float
        Multiplies every noise amplitude (a noisy record has 2-3).
    fibrillation : bool
        Add atrial fibrillatory waves (4-8 Hz, 0.02-0.06 mV).

    Returns
    -------
    ndarray, shape (n_samples,), mV
    """
    t = np.arange(n_samples) / fs
    # Baseline wander: breathing and electrode movement, three slow sines below 0.5 Hz, of
    # 0.01-0.03 mV each, as on the cleaner real records. Wander moves the R peaks against the
    # window's range; a few times more would push normal beats under lesson 1's 0.9 threshold.
    freq = rng.uniform(0.05, 0.45, 3)[:, None]
    amp = rng.uniform(0.01, 0.03, 3)[:, None]
    wander = (amp * np.sin(2 * np.pi * freq * t + rng.uniform(0, 2 * np.pi, (3, 1)))).sum(axis=0)
    hum = rng.uniform(0.0, 0.02) * np.sin(2 * np.pi * mains_hz * t + rng.uniform(0, 2 * np.pi))
    white = rng.uniform(0.005, 0.025) * rng.standard_normal(n_samples)
    total = level * (wander + hum + white)
    if fibrillation:
        # A frequency that drifts between 4 and 8 Hz, integrated into a phase.
        freq = rng.uniform(5, 7) + np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t)
        total += rng.uniform(0.02, 0.06) * np.sin(2 * np.pi * np.cumsum(freq) / fs)
    return total


def _gain(rng: np.random.Generator, n_samples: int, fs: float, resting: bool = False) -> np.ndarray:
    """Slow multiplicative changes of the ECG's amplitude: breathing moves the heart against the
    electrodes (0.5-2.5 %), and in a third of the records a drift over minutes (5-10 %, a period
    of 2-8 min) changes the contact; within a 10-s window it changes the R height by at most 5 %.
    A resting ECG (``resting``) has 0.5-2 % from breathing and no drift.

    Returns
    -------
    ndarray, shape (n_samples,), around 1 (no unit)
    """
    t = np.arange(n_samples) / fs
    depth = rng.uniform(0.005, 0.02) if resting else rng.uniform(0.005, 0.025)
    breathing = depth * np.sin(2 * np.pi * rng.uniform(0.15, 0.4) * t + rng.uniform(0, 2 * np.pi))
    drift = rng.uniform(0.05, 0.1) if rng.random() < 1 / 3 else rng.uniform(0.0, 0.05)
    drift *= 0.0 if resting else 1.0
    drift *= np.sin(2 * np.pi * rng.uniform(0.002, 0.008) * t + rng.uniform(0, 2 * np.pi))
    return 1.0 + breathing + drift


# --- assembling a record ------------------------------------------------------------------------

def _jitter(rng: np.random.Generator, beats: Waves, intervals: np.ndarray, spread: float = 0.05) -> Waves:
    """Beat-to-beat variation of the template waves, and QT adaptation to the heart rate.

    Amplitudes and widths vary by about ``spread`` (5 %), QRS amplitudes by a fifth of it (the R
    height of a steady rhythm hardly changes from beat to beat); P and T waves move by a few ms;
    T waves come earlier after a short R-R interval (their offset scales with its square root, as
    in Bazett's QT correction); artefact slots get random wiggles (narrow waves within 0.35 s of
    the beat).

    Parameters
    ----------
    beats : Waves with arrays of shape (n_beats, n_waves)
    intervals : ndarray, shape (n_beats,), s
        The R-R interval that ends at each beat.
    spread : float
        Relative standard deviation of amplitudes and widths (of QRS amplitudes: a fifth of it).

    Returns
    -------
    Waves with arrays of shape (n_beats, n_waves)
    """
    shape = beats.amplitude.shape
    relative = np.where(beats.kind == QRS, 0.2, 1.0) * spread
    amplitude = beats.amplitude * (1 + relative * rng.standard_normal(shape))
    width = beats.width * (1 + spread * rng.standard_normal(shape)).clip(0.8, 1.2)
    moves = np.isin(beats.kind, (P_WAVE, T_WAVE))
    offset = beats.offset + np.where(moves, 0.004, 0.0) * rng.standard_normal(shape)
    qt = np.sqrt(np.clip(intervals, 0.4, 1.6))[:, None]
    offset = np.where(beats.kind == T_WAVE, offset * qt, offset)

    wiggle = beats.kind == ARTEFACT
    offset = np.where(wiggle, rng.uniform(-0.35, 0.35, shape), offset)
    width = np.where(wiggle, rng.uniform(0.004, 0.02, shape), width)
    amplitude = np.where(wiggle, rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 0.5, shape), amplitude)
    return Waves(beats.kind, offset, amplitude, width)


def _stack_templates(templates: dict[str, Waves], keys: np.ndarray) -> Waves:
    """The template of every beat, as 2-D arrays (n_beats, n_waves).

    Templates are padded with flat waves to the same number of waves.
    """
    names = sorted(set(keys.tolist()))
    n_waves = max(len(templates[k].kind) for k in names)
    rows = [templates[name].padded(n_waves) for name in names]
    code = np.searchsorted(names, keys)
    return Waves(*(np.stack([getattr(r, f) for r in rows])[code]
                   for f in ("kind", "offset", "amplitude", "width")))


def _beat_keys(rng: np.random.Generator, profile: Profile, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` beat types from a record's mix.

    Returns
    -------
    symbols : ndarray, shape (n,), str
        Annotation symbols.
    keys : ndarray, shape (n,), str
        Template keys: the symbol, or ``"V2"`` for a ``V`` beat of the second focus.
    """
    names = list(profile.mix)
    share = np.array([profile.mix[s] for s in names], dtype=float)
    share *= np.exp(0.25 * rng.standard_normal(len(share)))  # each seed a slightly different mix
    symbols = rng.choice(np.array(names), size=n, p=share / share.sum())
    keys = symbols.astype("<U2")
    second_focus = rng.uniform(0.0, 0.5) if rng.random() < 0.4 else 0.0  # multiform in some records
    keys[(symbols == "V") & (rng.random(n) < second_focus)] = "V2"
    return symbols, keys


def _synthesise(rng: np.random.Generator, profile: Profile, seconds: float, fs: float,
                mains_hz: float, heart_rate: float, templates: dict[str, Waves]) -> tuple:
    """One SYNTHETIC lead: beat types, times, waves, noise.

    Parameters
    ----------
    profile : Profile
    seconds : float
        Duration in s.
    fs : float
        Sampling rate in Hz.
    mains_hz : float
    heart_rate : float
        Mean rate of the underlying rhythm, in beats per minute.
    templates : dict of str -> Waves

    Returns
    -------
    signal : ndarray, shape (round(seconds * fs),), float64, mV
    r_peaks : ndarray, shape (n_beats,), int64, sorted sample indices of the QRS peaks
    symbols : ndarray, shape (n_beats,), str
    """
    n_samples = int(round(seconds * fs))
    rr = 60.0 / heart_rate
    n = int(4 * seconds / rr) + 4  # more beats than can fit (R-R >= 0.275 rr); the rest is dropped
    symbols, keys = _beat_keys(rng, profile, n)
    intervals = _beat_intervals(rng, symbols, _sinus_intervals(rng, n, rr, profile.rhythm), profile.rhythm)
    times = rng.uniform(0.1, 1.0) * rr + np.cumsum(intervals) - intervals[0]
    fits = times < seconds + 1.0  # a beat just after the end still shows its P wave
    symbols, keys, intervals, times = symbols[fits], keys[fits], intervals[fits], times[fits]
    beats = _jitter(rng, _stack_templates(templates, keys), intervals, 0.02 if profile.resting else 0.05)

    signal = _render(times, beats, n_samples, fs) * _gain(rng, n_samples, fs, profile.resting)
    signal += _noise(rng, n_samples, fs, mains_hz, profile.noise, fibrillation=profile.rhythm == "af")
    peaks = _qrs_peaks(times, beats, fs)
    inside = (peaks >= 0) & (peaks < n_samples)
    order = np.argsort(peaks[inside], kind="stable")
    return signal, peaks[inside][order], symbols[inside][order]


def _record_rng(seed: int, *stream: int) -> np.random.Generator:
    # One independent stream per record: a record does not change when others are added or left out.
    return np.random.default_rng([seed, *stream])


def synthetic_mitbih_records(seed: int = 0, seconds: float = 120.0,
                             names: tuple[str, ...] = MITBIH_NAMES) -> list[Record]:
    """SYNTHETIC MIT-BIH-like records: generated, NOT recorded from patients.

    One record per name, each a different synthetic "patient" (its own wave shapes, heart rate and
    mix of beat types, see :data:`MITBIH_PROFILES` and the module docstring). Use them to run the
    course without the real data, never to judge a method.

    Parameters
    ----------
    seed : int
        The same seed gives the same records, sample for sample.
    seconds : float
        Duration of each record in s (the real records last 30 min; 120 s gives ~150 beats).
    names : tuple of str
        Record names (default: the 48 MIT-BIH names). A record depends only on its name and the
        seed, not on the other names. A name outside :data:`MITBIH_PROFILES` gets
        :data:`DEFAULT_PROFILE`.

    Returns
    -------
    list of Record
        ``signal``: shape (round(seconds * 360),), float64, mV, lead ``"MLII"`` at ``fs=360`` Hz;
        ``r_peaks``: shape (n_beats,), int64, sorted sample indices of the QRS peaks;
        ``symbols``: shape (n_beats,), MIT-BIH annotation symbols; ``source="synthetic"``,
        ``patient=name``, ``meta["synthetic"] = True``.
    """
    records = []
    for name in names:
        rng = _record_rng(seed, 0, zlib.crc32(name.encode()))
        profile = MITBIH_PROFILES.get(name, DEFAULT_PROFILE)
        base = max("NLR", key=lambda s: profile.mix.get(s, 0))
        templates = _patient_templates(rng, base, profile.rhythm)
        heart_rate = {"sinus": rng.uniform(50, 110), "af": rng.uniform(70, 110),
                      "paced": rng.uniform(70, 85)}[profile.rhythm]
        signal, r_peaks, symbols = _synthesise(rng, profile, seconds, FS_MITBIH, 60.0, heart_rate, templates)
        records.append(Record(
            name=name, signal=signal, fs=FS_MITBIH, lead="MLII", r_peaks=r_peaks, symbols=symbols,
            ann_samples=r_peaks, ann_symbols=symbols,  # only beats are annotated here
            source="synthetic", patient=name,
            meta={"synthetic": True, "seed": seed, "rhythm": profile.rhythm,
                  "heart_rate_bpm": round(float(heart_rate), 1), "comments": [SYNTHETIC_NOTE]},
        ))
    return records


# --- PTB: myocardial infarction -----------------------------------------------------------------

MI_SIGNS = ("ST elevation", "ST depression", "pathological Q wave", "T inversion")


def _infarct(rng: np.random.Generator, sinus: Waves) -> tuple[Waves, list[str]]:
    """A normal beat changed by a myocardial infarction, as seen in lead ii.

    At least one of :data:`MI_SIGNS`, drawn per patient: ST elevation (0.1-0.3 mV) or depression
    (0.07-0.2 mV), a pathological Q wave (>= 40 ms, 25-45 % of R deep, with a smaller R), an
    inverted T wave. The R wave stays the largest positive wave of the beat.

    Returns
    -------
    Waves (1-D arrays), and the list of signs given.
    """
    while True:
        signs = [s for s, p in zip(MI_SIGNS, (0.5, 0.25, 0.5, 0.45)) if rng.random() < p]
        if signs and not {"ST elevation", "ST depression"} <= set(signs):
            break
    kind, offset = sinus.kind, sinus.offset.copy()
    amplitude, width = sinus.amplitude.copy(), sinus.width.copy()
    q, r = 1, 2  # where _sinus_template puts the Q and R waves
    if "pathological Q wave" in signs:
        offset[q], width[q] = -rng.uniform(0.03, 0.04), rng.uniform(0.012, 0.018)
        amplitude[q] = -amplitude[r] * rng.uniform(0.25, 0.45)
        amplitude[r] *= rng.uniform(0.6, 0.9)
    if "T inversion" in signs:
        amplitude[kind == T_WAVE] = -np.abs(amplitude[kind == T_WAVE]).clip(0.03) * rng.uniform(0.8, 2.0)
    result = Waves(kind, offset, amplitude, width)
    for sign, low, high in (("ST elevation", 0.1, 0.3), ("ST depression", -0.2, -0.07)):
        if sign in signs:  # a broad wave over the ST segment, starting at the end of the QRS
            shift = rng.uniform(low, high)
            result = _join(result, _waves((T_WAVE, rng.uniform(0.1, 0.14), shift, rng.uniform(0.035, 0.05))))
    return result, signs


def synthetic_ptb_records(seed: int = 0, n_healthy: int = 20, n_mi: int = 20,
                          seconds: float = 30.0) -> list[Record]:
    """SYNTHETIC PTB-like records, healthy controls and myocardial infarction: NOT from patients.

    One record per synthetic patient, lead ii at 1000 Hz, sinus rhythm. The patients with an
    infarction show some of ST elevation or depression, pathological Q waves and T inversion
    (:func:`_infarct`), to a different degree each; the healthy ones have normal beats. The R wave
    is the dominant positive peak, so the threshold detector of :mod:`ecglab.data.beats` finds it.
    Which patient number has which label is shuffled by the seed.

    Parameters
    ----------
    seed : int
        The same seed gives the same records, sample for sample.
    n_healthy, n_mi : int
        Number of healthy controls (label 0) and of patients with an infarction (label 1).
    seconds : float
        Duration of each record in s.

    Returns
    -------
    list of Record, ordered by patient number
        ``name`` ``"patient001/s0001_syn"``, ``patient`` ``"patient001"``; ``signal``: shape
        (round(seconds * 1000),), float64, mV; ``fs=1000``, ``lead="ii"``, ``r_peaks`` and
        ``symbols`` None, ``label`` 0 or 1, ``source="synthetic"``; ``meta["comments"]`` holds
        header lines as in PTB (``"Reason for admission: Healthy control"`` or
        ``"...: Myocardial infarction"``), which :func:`ecglab.data.datasets.ptb_label` reads.
    """
    labels = _record_rng(seed, 2).permutation(np.r_[np.zeros(n_healthy, int), np.ones(n_mi, int)])
    records = []
    for number, label in enumerate(labels.tolist(), start=1):
        rng = _record_rng(seed, 1, number)
        r = rng.uniform(0.9, 1.8)  # a clear, upright R in lead ii
        sinus = _sinus_template(rng, r)
        template, signs = _infarct(rng, sinus) if label else (sinus, [])
        profile = Profile({"N": 100}, noise=0.4, resting=True)  # PTB: resting, cleaner than MIT-BIH
        signal, _, _ = _synthesise(rng, profile, seconds, FS_PTB, 50.0, rng.uniform(55, 95), {"N": template})
        reason = "Myocardial infarction" if label else "Healthy control"
        comments = [f"age: {rng.integers(35, 80)}", f"sex: {rng.choice(['male', 'female'])}",
                    f"Reason for admission: {reason}", SYNTHETIC_NOTE]
        if label:
            where = rng.choice(["inferior", "infero-lateral", "infero-posterior"])
            comments.insert(3, f"Acute infarction (localization): {where}")
        patient = f"patient{number:03d}"
        records.append(Record(
            name=f"{patient}/s{number:04d}_syn", signal=signal, fs=FS_PTB, lead="ii", label=label,
            source="synthetic", patient=patient,
            meta={"synthetic": True, "seed": seed, "comments": comments, "mi_signs": signs},
        ))
    return records
