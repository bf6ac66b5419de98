"""`shortsbot models pull NAME`: the one place a speech model is downloaded, and only when asked.

The engine never downloads (it loads with local_files_only); an operator who wants another
faster-whisper model (say "small" or "large-v3") pulls it once into the cache, then names it
in WHISPER_MODEL or WHISPER_MULTILINGUAL_MODEL.
"""
from __future__ import annotations

import sys

from bot.settings import Settings


def run_models(settings: Settings, args) -> int:
    from engine.model_store import pull_model

    try:
        where = pull_model(args.name, settings.cache_dir)
    except Exception as exc:  # noqa: BLE001 - the hub's errors are many; one line for the operator
        print(f"shortsbot: could not download the model {args.name!r}: {exc.__class__.__name__}: {exc}",
              file=sys.stderr)
        return 1
    print(f"Pulled {args.name} into {where}. Use it with WHISPER_MULTILINGUAL_MODEL={args.name} "
          f"(or WHISPER_MODEL={args.name} for English).")
    return 0
