"""Where model weights come from, shared by the BGE-M3 embedder and the reranker.

Why this exists: FlagEmbedding treats any string that is not an existing path
as a hub name and retries the download for about 50 s, so a mistyped folder
looks like a hang. Here a name is resolved to a local folder first, and a
failure says at once what was tried and what to pass instead.

Resolution order:
1. an existing folder: used as is;
2. something shaped like a path (absolute, `./`, `~`, two or more `/`): an
   error at once, it can only be a typo;
3. a hub name (`BAAI/bge-m3`): the local Hugging Face cache, with no network;
4. the hub itself, unless HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE is set.

The models are then always loaded from a folder, so no library below makes a
network call of its own. A server on a machine with no hub should set
HF_HUB_OFFLINE=1 (before importing huggingface_hub, which reads it once).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path

from search.errors import ModelLoadFailed

_TRUE = {"1", "true", "yes", "on"}
_REPO_ID = re.compile(r"(?:[A-Za-z0-9][\w.-]{0,95}/)?[A-Za-z0-9][\w.-]{0,95}")
_OFFSET_TYPES = {"xlm-roberta", "roberta", "camembert"}  # positions start after pad_token_id
# Hub repositories carry ONNX and other framework copies that torch never reads.
_IGNORE = ["onnx/*", "*.onnx", "*.onnx_data", "flax_model.msgpack", "rust_model.ot",
           "tf_model.h5", "openvino/*"]


def resolve_model_folder(name_or_path: str, *, what: str, setting: str) -> Path:
    """A local folder holding the model named `name_or_path`, or ModelLoadFailed.

    `what` names the model's role in messages ("BGE-M3 embedder"); `setting`
    is the variable a server user sets to pass a folder (TRENDSEARCH_MODEL).
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ModelLoadFailed(f"cannot load the {what} from `{name_or_path}`: it is a file; "
                              f"pass the folder that holds config.json and the weights")
    if not _is_hub_name(name_or_path):
        raise ModelLoadFailed(f"cannot load the {what}: there is no folder `{name_or_path}`; "
                              f"check the path ({setting})")
    return _from_hub(name_or_path, what=what, setting=setting)


def hub_offline() -> bool:
    """Whether the Hugging Face switches forbid downloads.

    Why both sources: huggingface_hub reads the variables once, at import, and
    a caller may set them later; either one means "do not try the network".
    """
    from huggingface_hub import constants

    env = (os.environ.get(name, "").strip().lower() for name in
           ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))
    return bool(constants.HF_HUB_OFFLINE) or any(value in _TRUE for value in env)


def config_fingerprint(folder: Path) -> str:
    """First 8 hex digits of sha256(config.json).

    Why config.json and not the weights: hashing 2 GB of weights costs seconds
    at every start. The fingerprint catches a different architecture or
    vocabulary under the same folder name, not a re-trained copy of one.
    """
    config = folder / "config.json"
    if not config.is_file():
        raise ModelLoadFailed(f"{folder} has no config.json: it is not a model folder")
    return hashlib.sha256(config.read_bytes()).hexdigest()[:8]


def local_model_id(prefix: str, name_or_path: str, folder: Path) -> str:
    """`prefix:hub-name` for hub models, `prefix:folder-name:fingerprint` for folders.

    Why the fingerprint: folder names like `model` or `bge-m3` repeat across
    machines; the index must not accept vectors from a different model because
    its folder happened to share a name.
    """
    if Path(name_or_path).expanduser().is_dir():
        return f"{prefix}:{folder.resolve().name}:{config_fingerprint(folder)}"
    return f"{prefix}:{name_or_path}"


def check_max_length(folder: Path, max_length: int, *, what: str) -> None:
    """Refuse a max_length the model cannot read, before loading it.

    Why: a longer input overruns the position table, and inside
    FlagEmbedding that error is swallowed and resurfaces as a riddle. XLM-R
    numbers positions from pad_token_id + 1, so 514 positions hold 512 tokens.
    """
    try:
        config = json.loads((folder / "config.json").read_text())
        positions = int(config["max_position_embeddings"])
    except (OSError, ValueError, KeyError, TypeError):
        return  # not a readable model config: the loader names that problem
    if config.get("model_type") in _OFFSET_TYPES:
        positions -= int(config.get("pad_token_id", 1)) + 1
    if max_length > positions:
        raise ModelLoadFailed(f"max_length {max_length} is more than the {what} in {folder} can "
                              f"read ({positions} tokens); lower it")


def choose_device(device: str | None) -> str:
    """The caller's device, else `cuda:0` when available, else `cpu`.

    Why one device: with `devices=None` and several GPUs FlagEmbedding starts a
    process pool per call, which a server holding one model must not do.
    """
    if device:
        return device
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def use_fp16(device: str) -> bool:
    """Half precision only on CUDA: on CPU fp16 kernels are slow or missing."""
    return device.startswith("cuda")


def _is_hub_name(name: str) -> bool:
    """`name` or `owner/name` as the hub spells them; paths and typos like `a//b` are not."""
    return bool(_REPO_ID.fullmatch(name)) and "--" not in name and ".." not in name


def _from_hub(repo_id: str, *, what: str, setting: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    with contextlib.suppress(LocalEntryNotFoundError):  # not cached: try the hub below
        return Path(snapshot_download(repo_id, local_files_only=True, ignore_patterns=_IGNORE))
    advice = (f"download it on a machine with access and pass the local folder instead "
              f"(for the server: {setting}=/path/to/folder)")
    if hub_offline():
        raise ModelLoadFailed(
            f"cannot load the {what} `{repo_id}`: there is no such local folder, it is not in "
            f"the Hugging Face cache, and this machine cannot reach a model hub "
            f"(HF_HUB_OFFLINE is set); {advice}"
        )
    try:
        return Path(snapshot_download(repo_id, ignore_patterns=_IGNORE))
    except Exception as error:  # network, auth and missing-repo errors all end here
        raise ModelLoadFailed(
            f"cannot load the {what} `{repo_id}`: there is no such local folder and the download "
            f"from the Hugging Face hub failed ({type(error).__name__}: {error}); this machine may "
            f"not reach a model hub: {advice}"
        ) from error
