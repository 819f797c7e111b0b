#!/usr/bin/env python3
"""Transcribes one file with the faster-whisper package, for the side-by-side
benchmark in eval/transcribe.sh. Prints one JSON object in the shape
`eval_transcribe run` prints: timings, peak memory, segments and words.

Same settings as Echoloop's engine: beam 5, the temperature fallback,
word timestamps, condition on previous text (faster-whisper's defaults).
"""
import argparse
import json
import resource
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model_dir")
    parser.add_argument("file")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compute", default="int8")
    parser.add_argument("--language", default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    from faster_whisper import WhisperModel
    from faster_whisper.audio import decode_audio  # noqa: F401  (import cost counted in load)

    model = WhisperModel(
        args.model_dir,
        device="cpu",
        compute_type=args.compute,
        cpu_threads=args.threads,
        num_workers=1,
        local_files_only=True,
    )
    loaded = time.perf_counter()
    segments, info = model.transcribe(
        args.file, language=args.language, beam_size=5, word_timestamps=True
    )
    out_segments, out_words = [], []
    for s in segments:
        out_segments.append(
            {"startMs": round(s.start * 1000), "endMs": round(s.end * 1000), "text": s.text.strip()}
        )
        for w in s.words or []:
            out_words.append(
                {"word": w.word.strip(), "startMs": round(w.start * 1000), "endMs": round(w.end * 1000)}
            )
    done = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump(
        {
            "engine": "faster-whisper",
            "loadS": loaded - started,
            "wallS": done - loaded,
            "audioS": info.duration,
            "peakRssMb": peak_kb / 1024,
            "language": info.language,
            "languageProbability": info.language_probability,
            "segments": out_segments,
            "words": out_words,
        },
        sys.stdout,
    )
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
