"""Tiny random BGE-M3 and reranker folders, built locally, for tests.

Why build instead of download: this machine reaches no model hub, and a real
BGE-M3 is 2.2 GB. A 2-layer XLM-R with hidden size 64 exercises the same code
path (tokenizer, FlagEmbedding loaders, dense + sparse heads, cross-encoder)
in well under a second. The weights are random, so tests may check shapes,
ranges, order and determinism, never relevance.

Why build at test time: the files then match the installed transformers, and
nothing binary lives in the repository.

Pitfalls this module exists to avoid (see docs/facts.md, "Models offline"):
special tokens must sit in XLM-R order and be declared on the tokenizer, or
sparse weights keep special ids; `max_position_embeddings` must exceed the
longest input by 2 (XLM-R offsets positions past the pad id); the M3 folder
needs `colbert_linear.pt` and `sparse_linear.pt`, or FlagEmbedding
re-randomises both heads on every load.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig

_Writer = Callable[[Path], None]

M3_FOLDER = "tiny-bge-m3"
RERANKER_FOLDER = "tiny-bge-reranker"

# XLM-R order: ids 0..3 are fixed by the architecture's config (pad_token_id=1).
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
MAX_POSITIONS = 514  # 512 tokens + XLM-R's padding offset of 2, like the real model
VOCAB_SIZE = 1500

_M3_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
             "colbert_linear.pt", "sparse_linear.pt")
_RERANKER_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")

_EN_SUBJECTS = ["Flooding", "A wildfire", "The earthquake", "Heavy snow", "A power outage",
                "The storm", "Bitcoin", "The election", "A bus strike", "The new phone"]
_EN_PLACES = ["New York", "London", "the coast", "downtown", "Sydney", "Shenzhen", "Berlin",
              "our street", "the airport", "Tokyo"]
_EN_TEMPLATES = [
    "BREAKING: {s} reported in {p}, stay safe everyone #news",
    "{s} hits {p} tonight, roads closed and trains delayed",
    "Can't believe {s} in {p} right now... praying for everyone",
    "Officials say {s} near {p} is under control, 3 people injured",
    "lol {s} again? {p} never learns @cityhall",
    "Live updates: {s} in {p} - volunteers needed, donate at the link",
    "Just saw the video of {s} in {p}. Unreal! RT if you're ok",
]
_ZH_SUBJECTS = ["暴雨", "地震", "山火", "台风", "停电", "比特币", "禁摩限电", "地铁故障",
                "新手机发布", "高温"]
_ZH_PLACES = ["深圳", "北京", "上海", "广州", "成都", "杭州", "武汉", "香港", "南京", "西安"]
_ZH_TEMPLATES = [
    "突发：{p}发生{s}，网友热议，大家注意安全",
    "{p}今天{s}，交通受到严重影响，请市民减少出行",
    "转发扩散！{p}{s}最新消息，求助信息汇总",
    "官方通报：{p}{s}已得到控制，目前三人受伤",
    "哈哈哈{p}又{s}了，微博热搜第一",
    "记者从{p}获悉，{s}造成部分地区停课停工",
    "{s}来了！{p}的朋友们都还好吗？#热点#",
]
_ALPHABET = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
             ".,!?:;'\"#@()-/%&+=…，。！？：；“”、（）")


def corpus() -> list[str]:
    """About 1,400 English, Chinese and mixed lines, news and social-media flavoured.

    Generated, not stored, so the tokenizer has a stable, reviewable source.
    """
    lines: list[str] = []
    for template, subject, place in itertools.product(_EN_TEMPLATES, _EN_SUBJECTS, _EN_PLACES):
        lines.append(template.format(s=subject, p=place))
    for template, subject, place in itertools.product(_ZH_TEMPLATES, _ZH_SUBJECTS, _ZH_PLACES):
        lines.append(template.format(s=subject, p=place))
    for en, zh in zip(_EN_SUBJECTS, _ZH_SUBJECTS):
        lines.append(f"{zh} {en} #trending 热搜")
    return lines


def build_tiny_m3(folder: Path, *, seed: int = 0) -> Path:
    """Write `<folder>/tiny-bge-m3` (reused if already complete) and return its path.

    `initializer_range` 0.5, not XLM-R's 0.02: with small random weights every
    dense vector comes out nearly identical, and tests could not tell texts apart.
    The sparse head's bias is raised to 1 so that most tokens get a positive
    weight (M3 keeps only weights > 0): random sparse vectors are then rarely empty.
    """
    return _build(Path(folder) / M3_FOLDER, _M3_FILES, lambda out: _write_m3(out, seed))


def build_tiny_reranker(folder: Path, *, seed: int = 0) -> Path:
    """Write `<folder>/tiny-bge-reranker` (reused if already complete) and return its path.

    `initializer_range` 0.2 spreads the logits enough that sigmoid scores
    differ between texts without most of them saturating at 0 or 1.
    """
    return _build(Path(folder) / RERANKER_FOLDER, _RERANKER_FILES,
                  lambda out: _write_reranker(out, seed))


def _build(target: Path, required: tuple[str, ...], write: _Writer) -> Path:
    """Build into a private sibling folder, then rename it into place.

    Why: the rename is atomic, so a folder at `target` is always complete,
    even when two test workers race or a build is interrupted.
    """
    if target.exists():
        missing = [name for name in required if not (target / name).is_file()]
        if missing:
            raise FileExistsError(
                f"{target} exists but is not a complete tiny model (missing {', '.join(missing)}); "
                f"remove it or pass another folder"
            )
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        write(staging)
        staging.rename(target)
    except OSError:
        if not target.exists():
            raise
        # Another process won the race; its folder is complete.
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_m3(out: Path, seed: int) -> None:
    import torch
    from transformers import XLMRobertaModel

    tokenizer = _save_tokenizer(out)
    torch.manual_seed(seed)
    model = XLMRobertaModel(_config(len(tokenizer), initializer_range=0.5))
    model.save_pretrained(out)
    hidden = model.config.hidden_size
    colbert = torch.nn.Linear(hidden, hidden)
    sparse = torch.nn.Linear(hidden, 1)
    with torch.no_grad():
        sparse.bias.fill_(1.0)
    torch.save(colbert.state_dict(), out / "colbert_linear.pt")
    torch.save(sparse.state_dict(), out / "sparse_linear.pt")


def _write_reranker(out: Path, seed: int) -> None:
    import torch
    from transformers import XLMRobertaForSequenceClassification

    tokenizer = _save_tokenizer(out)
    torch.manual_seed(seed)
    config = _config(len(tokenizer), initializer_range=0.2)
    config.num_labels = 1
    XLMRobertaForSequenceClassification(config).save_pretrained(out)


def _config(vocab_size: int, *, initializer_range: float) -> XLMRobertaConfig:
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=vocab_size, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=128, max_position_embeddings=MAX_POSITIONS, type_vocab_size=1,
        initializer_range=initializer_range, bos_token_id=0, pad_token_id=1, eos_token_id=2,
    )


def _canonical_unigram(trained: Tokenizer) -> models.Unigram:
    """The trained Unigram model with ids and scores made reproducible.

    Why: the trainer walks hash sets seeded per process. The pieces it keeps
    are stable, but tied pieces change ids and the single characters it must
    keep get their scores (min - 0.0001 * k) in a random order. So scores are
    rounded, every single character gets the lowest score (they are the
    fallbacks anyway), and ties are broken by the piece itself.
    """
    from tokenizers import models

    vocab = [(piece, float(score)) for piece, score in json.loads(trained.to_str())["model"]["vocab"]
             if piece not in SPECIAL_TOKENS]
    floor = round(min(score for _, score in vocab), 6)
    pieces = [(piece, floor if len(piece) == 1 else round(score, 6)) for piece, score in vocab]
    pieces.sort(key=lambda item: (-item[1], item[0]))
    return models.Unigram([(piece, 0.0) for piece in SPECIAL_TOKENS] + pieces,
                          unk_id=SPECIAL_TOKENS.index("<unk>"), byte_fallback=False)


def _save_tokenizer(out: Path) -> PreTrainedTokenizerFast:
    """Train a Unigram tokenizer like XLM-R's sentencepiece one, on `corpus()`.

    Metaspace pre-tokenisation keeps Chinese runs whole, so the Unigram model
    learns pieces for words such as 深圳 instead of being forced to split by
    character; characters it never saw map to <unk> (id 3), which M3 drops.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import UnigramTrainer
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.Unigram())
    backend.normalizer = normalizers.NFKC()
    backend.pre_tokenizer = pre_tokenizers.Metaspace()
    backend.decoder = decoders.Metaspace()
    trainer = UnigramTrainer(vocab_size=VOCAB_SIZE, special_tokens=SPECIAL_TOKENS,
                             unk_token="<unk>", initial_alphabet=list(_ALPHABET),
                             show_progress=False)
    backend.train_from_iterator(corpus(), trainer=trainer)
    backend.model = _canonical_unigram(backend)
    bos, eos = backend.token_to_id("<s>"), backend.token_to_id("</s>")
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", cls_token="<s>",
        sep_token="</s>", pad_token="<pad>", unk_token="<unk>", mask_token="<mask>",
        model_max_length=MAX_POSITIONS - 2,
    )
    ids = [tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS[:4]]
    if ids != [0, 1, 2, 3]:
        raise RuntimeError(f"tokenizer special ids are {ids}, XLM-R needs [0, 1, 2, 3]")
    tokenizer.save_pretrained(out)
    return tokenizer
