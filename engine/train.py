"""`python -m engine.train FILE --steps N`: train on a text file (one document per non-empty
line) with a progress bar on stderr, then print samples."""

import argparse
import sys
import time

from .trainer import Trainer


def progress(record, num_steps, smooth_loss, started, width=30):
    filled = round(width * record.step / num_steps)
    rate = record.step / max(time.perf_counter() - started, 1e-9)
    return (f"\r{record.step:>5}/{num_steps} [{'#' * filled}{'.' * (width - filled)}] "
            f"loss {smooth_loss:.4f}  lr {record.lr:.5f}  {rate:.0f} steps/s")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m engine.train", description=__doc__)
    parser.add_argument("file", help="UTF-8 text file, one document per line")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--n-embd", type=int, default=16)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-layer", type=int, default=1)
    parser.add_argument("--block-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=0.5)
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as f:
            docs = [line.strip() for line in f if line.strip()]
        trainer = Trainer(docs, n_embd=args.n_embd, n_head=args.n_head, n_layer=args.n_layer,
                          block_size=args.block_size, num_steps=args.steps, learning_rate=args.lr,
                          seed=args.seed, capture=False, sample_count=0)
    except (OSError, ValueError) as err:
        parser.error(str(err))
    print(f"{len(docs)} docs, vocab {trainer.vocab.size}, {trainer.model.flat.size:,} params",
          file=sys.stderr)
    started, smooth_loss = time.perf_counter(), None
    for record in trainer:
        smooth_loss = record.loss if smooth_loss is None else smooth_loss
        smooth_loss = 0.95 * smooth_loss + 0.05 * record.loss
        if record.step % 10 == 0 or trainer.done:
            sys.stderr.write(progress(record, trainer.num_steps, smooth_loss, started))
    sys.stderr.write("\n")
    for sample in trainer.sample(args.samples, args.temperature):
        print(sample)


if __name__ == "__main__":
    main()
