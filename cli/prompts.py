"""`telemart prompts list` and `telemart prompts render`: the fixed prompts' words, and
recordings of them made with espeak-ng for a centre that has no voice recordings yet.

list    prints each prompt's name and Korean words (the script for whoever records them)
render  writes <dir>/<name>.wav (8 kHz mono 16-bit, what Asterisk plays) for each one:
        point --dir at Asterisk's sounds/ko/telemart/ (the driver plays
        sound:telemart/<name> with lang=ko). Existing files are kept unless --overwrite,
        so a person's recordings are not replaced by the machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from dialer.errors import TelephonyConfigError
from dialer.telephony.prompts import PromptWordsError, script
from dialer.telephony.speech import SpeechError, check_tools, check_voice, render_wav

PLACEHOLDER_COMPANY = "(회사명)"
PLACEHOLDER_OPT_OUT = "080-000-0000"


def cmd_list(args: argparse.Namespace) -> int:
    words = script(company=args.company or PLACEHOLDER_COMPANY,
                   opt_out_number=args.opt_out_number or PLACEHOLDER_OPT_OUT)  # fmt: skip
    for name, said in words.items():
        print(f"{name}\t{said}")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    try:
        words = script(company=args.company, opt_out_number=args.opt_out_number)
        check_tools()
        asyncio.run(check_voice(args.voice))
    except (PromptWordsError, TelephonyConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    folder: Path = args.dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: --dir {folder}: {exc.strerror}", file=sys.stderr)
        return 2
    return asyncio.run(_render_all(words, folder, voice=args.voice, overwrite=args.overwrite))


async def _render_all(words: dict[str, str], folder: Path, *, voice: str,
                      overwrite: bool) -> int:  # fmt: skip
    made = kept = 0
    for i, (name, said) in enumerate(words.items(), 1):
        path = folder / f"{name}.wav"
        if path.exists() and not overwrite:
            kept += 1
            continue
        try:
            await render_wav(said, path, voice=voice)
        except (SpeechError, OSError) as exc:
            print(f"error: {path}: {exc}", file=sys.stderr)
            return 1
        made += 1
        print(f"[{i}/{len(words)}] {path}", file=sys.stderr)
    print(f"{made} prompts written to {folder}, {kept} kept as they were"
          + (" (--overwrite replaces them)" if kept else ""))  # fmt: skip
    return 0


def register(sub: Any) -> None:
    prompts = sub.add_parser("prompts", help="the fixed prompts' words and recordings")
    prompts_sub = prompts.add_subparsers(dest="prompts_cmd", required=True)
    p = prompts_sub.add_parser("list", help="each prompt's name and Korean words")
    p.add_argument("--company", help="the name the safe-harbor message says")
    p.add_argument("--opt-out-number", help="the free number to refuse calls")
    p.set_defaults(func=cmd_list)
    p = prompts_sub.add_parser("render", help="make the prompts' WAVs with espeak-ng")
    p.add_argument("--dir", type=Path, required=True,
                   help="where to write (Asterisk's sounds/ko/telemart/)")  # fmt: skip
    p.add_argument("--company", required=True, help="the name the safe-harbor message says")
    p.add_argument("--opt-out-number", required=True,
                   help="the free number callers refuse further calls on (080-…)")  # fmt: skip
    p.add_argument("--voice", default="ko", help="espeak-ng voice (default ko)")
    p.add_argument("--overwrite", action="store_true", help="replace files already there")
    p.set_defaults(func=cmd_render)
