def detect_lang(text: str) -> str:
    return "und"
