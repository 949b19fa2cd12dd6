"""Hub-mode messages (service, client, engine), merged into kit.messages.CATALOGUE."""

from __future__ import annotations

HUB_MESSAGES: dict[str, dict[str, str]] = {
    # --- service: HTTP, auth, teacher endpoints (kit/service.py) ---------------
    "service_no_token": {
        "en": "This request has no hub token, so the Baeum service cannot tell who "
        "you are. Fix: call it from a notebook on the hub (the kit sends the token "
        "for you), or add the header 'Authorization: token <your hub token>'.",
        "ko": "이 요청에는 허브 토큰이 없어서 배움 서비스가 누구인지 알 수 없어요. 해결: "
        "허브의 노트북에서 호출하거나(키트가 토큰을 대신 보내요), "
        "'Authorization: token <허브 토큰>' 헤더를 붙이세요.",
    },
    "service_bad_token": {
        "en": "The hub does not recognise this token (it may have expired). Fix: stop "
        "and start your server from the hub's control panel, then try again.",
        "ko": "허브가 이 토큰을 알아보지 못했어요(만료되었을 수 있어요). 해결: 허브 "
        "제어판에서 서버를 멈췄다가 다시 시작한 뒤 다시 해 보세요.",
    },
    "service_no_scope": {
        "en": "This hub token may not use the Baeum service: it lacks the scope "
        "{scope}. Fix: ask the hub admin to give students' servers that scope (a role "
        "in the hub's configuration, see the deployment guide).",
        "ko": "이 허브 토큰으로는 배움 서비스를 쓸 수 없어요. {scope} 범위(scope)가 "
        "없어요. 해결: 허브 관리자에게 학생 서버에 이 범위를 주는 역할(role)을 허브 "
        "설정에 넣어 달라고 하세요(배포 안내서 참고).",
    },
    "service_teacher_only": {
        "en": "Only teachers can do this (members of the hub group '{group}'). Fix: "
        "ask the hub admin to add your account to that group.",
        "ko": "이 작업은 선생님만 할 수 있어요(허브 그룹 '{group}'의 구성원). 해결: 허브 "
        "관리자에게 내 계정을 그 그룹에 넣어 달라고 하세요.",
    },
    "service_bad_json": {
        "en": "The request body is not valid JSON ({detail}). Fix: send one JSON "
        'object, e.g. {{"text": "hello"}}.',
        "ko": "요청 본문이 올바른 JSON이 아니에요({detail}). 해결: JSON 객체 하나를 "
        '보내세요. 예: {{"text": "안녕"}}.',
    },
    "service_bad_body": {
        "en": "The request body must be a JSON object with named fields, not a "
        '{kind}. Fix: send e.g. {{"text": "hello"}}.',
        "ko": "요청 본문은 이름 붙은 필드가 있는 JSON 객체여야 해요({kind}이(가) 아니라). "
        '해결: 예를 들어 {{"text": "안녕"}}처럼 보내세요.',
    },
    "service_unknown_field": {
        "en": "'{name}' is not a field of this request. Fix: check its spelling; the "
        "fields are: {allowed}.",
        "ko": "'{name}'은(는) 이 요청에 없는 필드예요. 해결: 철자를 확인하세요. 쓸 수 "
        "있는 필드: {allowed}.",
    },
    "service_missing_field": {
        "en": "The request has no '{name}'. Fix: add it (see docs/hub-api.md).",
        "ko": "요청에 '{name}'이(가) 없어요. 해결: 넣어 주세요(docs/hub-api.md 참고).",
    },
    "service_body_too_big": {
        "en": "The request is {size} bytes, more than the service accepts at once "
        "({limit}). Fix: send less at a time: fewer rows or shorter texts.",
        "ko": "요청 크기가 {size}바이트로, 서비스가 한 번에 받는 양({limit})보다 커요. "
        "해결: 한 번에 조금씩 보내세요. 행 수를 줄이거나 글을 짧게 하세요.",
    },
    "service_too_many_conversations": {
        "en": "chat_batch got {count} conversations; the service answers at most "
        "{limit} in one call. Fix: split the list into smaller lists.",
        "ko": "chat_batch에 대화가 {count}개 들어왔는데, 서비스는 한 번에 최대 {limit}개만 "
        "답해요. 해결: 목록을 더 작은 목록 여러 개로 나누세요.",
    },
    "service_not_ready": {
        "en": "The Baeum service is starting or stopping right now. Fix: wait a "
        "minute and run the cell again; if it keeps happening, tell your teacher.",
        "ko": "배움 서비스가 지금 시작하거나 멈추는 중이에요. 해결: 1분쯤 기다렸다가 셀을 "
        "다시 실행하세요. 계속 그러면 선생님께 알려 주세요.",
    },
    "service_hub_unreachable": {
        "en": "The Baeum service cannot ask the hub who you are right now. Fix: wait "
        "a minute and run the cell again; if it keeps happening, tell your teacher "
        "(the service's log says why).",
        "ko": "배움 서비스가 지금 허브에 사용자 확인을 할 수 없어요. 해결: 1분쯤 "
        "기다렸다가 셀을 다시 실행하세요. 계속 그러면 선생님께 알려 주세요(서비스 "
        "기록에 이유가 남아 있어요).",
    },
    "service_error": {
        "en": "Something went wrong inside the Baeum service (it was logged, and the "
        "service keeps running). Fix: run the cell again; if it happens again, tell "
        "your teacher the time: {time}.",
        "ko": "배움 서비스 안에서 문제가 생겼어요(기록해 두었고, 서비스는 계속 돌아가요). "
        "해결: 셀을 다시 실행하세요. 또 그러면 선생님께 이 시각을 알려 주세요: {time}.",
    },
    "service_no_path": {
        "en": "The Baeum service has no {method} {path}. Fix: the kit in this "
        "notebook may be older or newer than the service; ask your teacher to update "
        "both to the same version.",
        "ko": "배움 서비스에는 {method} {path}이(가) 없어요. 해결: 이 노트북의 키트가 "
        "서비스와 버전이 다를 수 있어요. 선생님께 둘을 같은 버전으로 맞춰 달라고 하세요.",
    },
    "service_bad_method": {
        "en": "{path} does not take {method} requests. Fix: see docs/hub-api.md for "
        "the method of each endpoint.",
        "ko": "{path}은(는) {method} 요청을 받지 않아요. 해결: 각 주소의 메서드는 "
        "docs/hub-api.md를 보세요.",
    },
    "service_bad_request": {
        "en": "The service could not read this request (HTTP {status}). Fix: check "
        "the request against docs/hub-api.md.",
        "ko": "서비스가 이 요청을 읽지 못했어요(HTTP {status}). 해결: docs/hub-api.md와 "
        "요청을 비교해 보세요.",
    },
    "service_bad_day": {
        "en": "'{value}' is not a date. Fix: write it as YYYY-MM-DD, e.g. 2026-03-02.",
        "ko": "'{value}'은(는) 날짜가 아니에요. 해결: YYYY-MM-DD 형식으로 쓰세요. 예: "
        "2026-03-02.",
    },
    "service_no_hub": {
        "en": "`kit serve` runs as a JupyterHub service, but JUPYTERHUB_API_TOKEN is "
        "not set. Fix: start it from the hub (c.JupyterHub.services with a command "
        "and an api_token; see the deployment guide).",
        "ko": "`kit serve`는 JupyterHub 서비스로 실행되는데 JUPYTERHUB_API_TOKEN이 "
        "설정되어 있지 않아요. 해결: 허브 설정(c.JupyterHub.services에 command와 "
        "api_token)으로 허브가 시작하게 하세요(배포 안내서 참고).",
    },
    "service_listening": {
        "en": "Baeum service: model {model}, listening on {url} (files in {dir}).",
        "ko": "배움 서비스: 모델 {model}, {url}에서 기다리는 중 (파일 위치: {dir}).",
    },
    "service_stopped": {
        "en": "Baeum service stopped. The quota ledger and the adapters are saved.",
        "ko": "배움 서비스를 멈췄어요. 할당량 기록과 어댑터는 저장되어 있어요.",
    },
    "service_usage_title": {
        "en": "Model use on {day}",
        "ko": "{day} 모델 사용량",
    },
    "service_usage_note": {
        "en": "Used / limit per student. Red: the limit is reached. Resets at {reset}.",
        "ko": "학생별 사용량 / 한도예요. 빨간색은 한도에 닿았다는 뜻이에요. {reset}에 "
        "다시 채워져요.",
    },
    "service_usage_empty": {
        "en": "No one has used the model on {day} yet.",
        "ko": "{day}에는 아직 아무도 모델을 쓰지 않았어요.",
    },
    "service_usage_student": {"en": "student", "ko": "학생"},
    "service_usage_chart_note": {
        "en": "used (black mark: limit)",
        "ko": "사용량 (검은 선: 한도)",
    },
    "service_usage_chart_alt": {
        "en": "Bar chart of generated tokens and generations per student",
        "ko": "학생별 생성 토큰과 생성 횟수 막대그래프",
    },
    # --- engine: batching, fine-tune queue, adapter store ----------------------
    "batch_too_busy": {
        "en": "You already have {limit} requests waiting for the model, the most one "
        "student may have at once. Fix: wait for those answers, then run the cell "
        "again.",
        "ko": "모델의 답을 기다리는 요청이 이미 {limit}개 있어요. 한 사람이 한 번에 보낼 수 "
        "있는 최대 개수예요. 해결: 앞의 답이 나온 뒤에 셀을 다시 실행하세요.",
    },
    "service_stopping": {
        "en": "The Baeum service is stopping (a restart or an update), so it did not "
        "answer this request. Fix: wait a minute and run the cell again; if it keeps "
        "happening, tell your teacher.",
        "ko": "배움 서비스가 멈추는 중이라(재시작 또는 업데이트) 이 요청에 답하지 못했어요. "
        "해결: 1분쯤 기다렸다가 셀을 다시 실행하세요. 계속 그러면 선생님께 알려 주세요.",
    },
    "adapter_bad_name": {
        "en": "'{name}' cannot be an adapter name. Fix: use 1 to 64 letters (Hangul "
        "too), digits, '.', '_' or '-', starting with a letter or a digit, without "
        "'/' or '..'. For example: movie-genres-v2.",
        "ko": "'{name}'은(는) 어댑터 이름으로 쓸 수 없어요. 해결: 글자(한글 포함), 숫자, "
        "'.', '_', '-'로 1~64자를 쓰되, 글자나 숫자로 시작하고 '/'나 '..'는 넣지 "
        "마세요. 예: movie-genres-v2.",
    },
    "adapter_bad_owner": {
        "en": "'{owner}' cannot own adapters: a user name must not be blank and at "
        "most 200 characters (fewer when it has many non-Latin letters). Fix: this "
        "is the hub's setup; tell your teacher.",
        "ko": "'{owner}'은(는) 어댑터 주인 이름이 될 수 없어요. 사용자 이름은 비어 있지 "
        "않고 200자 이하여야 해요(라틴 문자가 아닌 글자가 많으면 더 짧게). 해결: 허브 "
        "설정 문제이니 선생님께 알려 주세요.",
    },
    "adapter_bad_id": {
        "en": "'{id}' is not an adapter id. Fix: write it as owner/name, for example "
        "'kim.minji/movie-genres'.",
        "ko": "'{id}'은(는) 어댑터 id가 아니에요. 해결: '주인/이름' 형태로 쓰세요. 예: "
        "'kim.minji/movie-genres'.",
    },
    "adapter_not_found": {
        "en": "There is no adapter '{id}'. Fix: check the owner and the name (your "
        "adapters and the shared ones are listed by kit.remote.adapters()), or wait "
        "until its fine-tune job is done.",
        "ko": "'{id}' 어댑터가 없어요. 해결: 주인과 이름을 확인하거나(내 어댑터와 공유된 "
        "어댑터는 kit.remote.adapters()로 볼 수 있어요), 파인튜닝 작업이 끝날 때까지 "
        "기다리세요.",
    },
    "adapter_not_allowed": {
        "en": "The adapter '{id}' belongs to {owner} and is not shared. Fix: use your "
        "own adapter, or ask {owner} or your teacher to share it.",
        "ko": "'{id}' 어댑터는 {owner}님의 것이고 공유되어 있지 않아요. 해결: 내 어댑터를 "
        "쓰거나, {owner}님이나 선생님께 공유해 달라고 하세요.",
    },
    "adapter_share_not_allowed": {
        "en": "Only {owner} or a teacher can share or stop sharing '{id}'. Fix: ask "
        "{owner} or your teacher.",
        "ko": "'{id}'의 공유 설정은 {owner}님이나 선생님만 바꿀 수 있어요. 해결: "
        "{owner}님이나 선생님께 부탁하세요.",
    },
    "adapter_copy_not_allowed": {
        "en": "You can copy only your own adapters, and '{id}' belongs to {owner}. "
        "Fix: if {owner} shares it, use it as it is with adapter='{id}'.",
        "ko": "내 어댑터만 복사할 수 있는데, '{id}'은(는) {owner}님의 것이에요. 해결: "
        "{owner}님이 공유하면 adapter='{id}'로 그대로 쓸 수 있어요.",
    },
    "adapter_name_taken": {
        "en": "You already have an adapter called '{name}'. Fix: pick another name, "
        "so that nothing is overwritten.",
        "ko": "'{name}'이라는 어댑터가 이미 있어요. 해결: 덮어쓰지 않도록 다른 이름을 "
        "고르세요.",
    },
    "job_not_found": {
        "en": "There is no fine-tune job '{id}'. Fix: check the id you got when you "
        "started the job.",
        "ko": "'{id}'라는 파인튜닝 작업이 없어요. 해결: 작업을 시작할 때 받은 id를 "
        "확인하세요.",
    },
    "job_not_allowed": {
        "en": "The fine-tune job '{id}' belongs to another student. Fix: you can "
        "follow only your own jobs; check the id.",
        "ko": "'{id}' 파인튜닝 작업은 다른 학생의 것이에요. 해결: 내 작업만 볼 수 "
        "있어요. id를 확인하세요.",
    },
    "job_bad_setting": {
        "en": "'{name}' is not a fine-tune setting. Fix: use only these: {allowed}.",
        "ko": "'{name}'은(는) 파인튜닝 설정이 아니에요. 해결: 다음 설정만 쓸 수 있어요: "
        "{allowed}.",
    },
    "job_interrupted": {
        "en": "Fine-tune job {id} was interrupted after {step} of {steps} steps "
        "because the Baeum service stopped or restarted; no adapter was saved. Fix: "
        "start the fine-tune again.",
        "ko": "배움 서비스가 멈추거나 다시 시작되어서 파인튜닝 작업 {id}이(가) {steps}스텝 "
        "중 {step}스텝에서 중단되었어요. 어댑터는 저장되지 않았어요. 해결: 파인튜닝을 "
        "다시 시작하세요.",
    },
    "finetune_failed": {
        "en": "Fine-tune job {id} failed because of a problem in the Baeum service, "
        "not in your data or settings (it was logged). Fix: start it again; if it "
        "fails again, tell your teacher the job id {id}.",
        "ko": "파인튜닝 작업 {id}이(가) 데이터나 설정이 아닌 배움 서비스 쪽 문제로 "
        "실패했어요(기록해 두었어요). 해결: 다시 시작해 보고, 또 실패하면 선생님께 작업 "
        "id {id}를 알려 주세요.",
    },
    # --- client: the kernel side (kit/remote.py) -------------------------------
    "remote_not_hub": {
        "en": "This needs the Baeum service, but KIT_SERVICE_URL is not set, so the "
        "kit is in local mode. Fix: use the model in this notebook (kit.load_model()), "
        "or ask your teacher for the service's address.",
        "ko": "배움 서비스가 필요한 기능인데 KIT_SERVICE_URL이 설정되어 있지 않아서 키트가 "
        "로컬 모드로 동작하고 있어요. 해결: 이 노트북의 모델(kit.load_model())을 쓰거나, "
        "선생님께 서비스 주소를 물어보세요.",
    },
    "remote_no_token": {
        "en": "The Baeum service ({url}) needs to know who you are, but this notebook "
        "has no hub token (JUPYTERHUB_API_TOKEN is not set). Fix: stop and start your "
        "server from the hub's control panel (File → Hub Control Panel); if that does "
        "not help, ask your teacher.",
        "ko": "배움 서비스({url})가 누구인지 확인해야 하는데, 이 노트북에 허브 토큰이 "
        "없어요(JUPYTERHUB_API_TOKEN이 설정되지 않음). 해결: 허브 제어판(File → Hub "
        "Control Panel)에서 서버를 멈췄다가 다시 시작하세요. 그래도 안 되면 선생님께 "
        "알려 주세요.",
    },
    "remote_bad_token": {
        "en": "The Baeum service ({url}) did not accept your hub token: it may have "
        "expired. Fix: stop and start your server from the hub's control panel (File → "
        "Hub Control Panel); if it keeps happening, show this message to your teacher.",
        "ko": "배움 서비스({url})가 허브 토큰을 받아 주지 않았어요. 토큰이 만료되었을 수 "
        "있어요. 해결: 허브 제어판(File → Hub Control Panel)에서 서버를 멈췄다가 다시 "
        "시작하세요. 계속 그러면 이 메시지를 선생님께 보여 주세요.",
    },
    "remote_forbidden": {
        "en": "Your hub account may not use the Baeum service ({url}). Fix: ask your "
        "teacher to give your account access to the service (the hub role scope "
        "access:services!service=baeum).",
        "ko": "내 허브 계정으로는 배움 서비스({url})를 쓸 수 없어요. 해결: 선생님께 이 "
        "계정에 서비스 사용 권한(허브 역할의 access:services!service=baeum 범위)을 "
        "달라고 부탁하세요.",
    },
    "remote_unreachable": {
        "en": "The Baeum service at {url} cannot be reached right now ({problem}): it "
        "may be starting or stopped. Fix: try again in a minute; if it stays like this, "
        "ask your teacher to check the service (`kit serve`).",
        "ko": "지금은 {url}의 배움 서비스에 연결할 수 없어요({problem}). 서비스가 "
        "시작하는 중이거나 멈춰 있을 수 있어요. 해결: 1분쯤 뒤에 다시 해 보세요. 계속 "
        "안 되면 선생님께 서비스(`kit serve`)를 확인해 달라고 하세요.",
    },
    "remote_timeout": {
        "en": "The Baeum service did not answer {url} within {seconds} seconds: it may "
        "be very busy. Fix: try again in a minute, or ask for a shorter answer "
        "(max_new_tokens). A teacher can allow longer waits with KIT_SERVICE_TIMEOUT.",
        "ko": "배움 서비스가 {url} 요청에 {seconds}초 안에 답하지 않았어요. 지금 아주 "
        "바쁠 수 있어요. 해결: 1분쯤 뒤에 다시 하거나 더 짧은 답(max_new_tokens)을 "
        "요청하세요. 선생님은 KIT_SERVICE_TIMEOUT으로 기다리는 시간을 늘릴 수 있어요.",
    },
    "remote_http": {
        "en": "The Baeum service answered {url} with an unexpected error (HTTP "
        "{status}). Fix: try again in a minute; if it keeps happening, show this "
        "message to your teacher.",
        "ko": "배움 서비스가 {url} 요청에 예상하지 못한 오류(HTTP {status})로 답했어요. "
        "해결: 1분쯤 뒤에 다시 해 보세요. 계속 그러면 이 메시지를 선생님께 보여 주세요.",
    },
    "remote_message": {
        "en": "The Baeum service says: {message}",
        "ko": "배움 서비스의 메시지: {message}",
    },
    "remote_other_model": {
        "en": "In hub mode the Baeum service runs one model for the whole class, "
        "'{served}', so '{name}' cannot be loaded here. Fix: use kit.load_model() "
        "without a name. To change the class's model, a teacher restarts the service "
        "with `kit serve --model NAME` (or KIT_MODEL).",
        "ko": "허브 모드에서는 배움 서비스가 반 전체에 모델 하나('{served}')만 돌려요. "
        "그래서 여기서는 '{name}'을(를) 불러올 수 없어요. 해결: 이름 없이 "
        "kit.load_model()을 쓰세요. 반의 모델을 바꾸려면 선생님이 `kit serve --model "
        "이름`(또는 KIT_MODEL)으로 서비스를 다시 시작하면 돼요.",
    },
    "remote_no_weights": {
        "en": "In hub mode the model's weights live in the Baeum service ({url}), not "
        "in this notebook, so {attribute} is not available here. Fix: use the model's "
        "methods (chat, generate, next_token_probs, tokenize), which work the same "
        "way; for the weights themselves, use the kit on your own computer.",
        "ko": "허브 모드에서는 모델의 가중치가 이 노트북이 아니라 배움 서비스({url})에 "
        "있어서 {attribute}을(를) 쓸 수 없어요. 해결: 똑같이 동작하는 모델의 메서드"
        "(chat, generate, next_token_probs, tokenize)를 쓰세요. 가중치를 직접 다루려면 "
        "내 컴퓨터에서 키트를 쓰세요.",
    },
    "remote_no_count": {
        "en": "The Baeum service did not say how big the adapter {adapter} is (its "
        "manifest has no {field}). Fix: ask your teacher to update the service; the "
        "adapter itself works.",
        "ko": "배움 서비스가 어댑터 {adapter}의 크기를 알려 주지 않았어요(매니페스트에 "
        "{field}이(가) 없음). 해결: 선생님께 서비스를 업데이트해 달라고 하세요. 어댑터 "
        "자체는 잘 동작해요.",
    },
    "remote_bad_adapter_name": {
        "en": "'{given}' is not a name an adapter can be kept under. Fix: give a short "
        "name such as 'movie-genres'.",
        "ko": "'{given}'은(는) 어댑터 이름으로 쓸 수 없어요. 해결: 'movie-genres'처럼 "
        "짧은 이름을 주세요.",
    },
    "remote_adapter_unknown": {
        "en": "There is no adapter '{given}' on the Baeum service (neither {owner_name} "
        "nor your own {mine}). Fix: check the name; your adapters are listed by "
        "kit.remote.adapters().",
        "ko": "배움 서비스에 '{given}' 어댑터가 없어요({owner_name}도, 내 어댑터 "
        "{mine}도 없음). 해결: 이름을 확인하세요. 내 어댑터 목록은 "
        "kit.remote.adapters()로 볼 수 있어요.",
    },
    "remote_queued": {
        "en": "Waiting in the fine-tune queue (place {position})",
        "ko": "파인튜닝 대기열에서 기다리는 중 ({position}번째)",
    },
    "remote_job_detached": {
        "en": "You stopped watching, but fine-tune job {job} keeps running on the "
        "Baeum service. To watch it again and get the adapter when it is done: "
        "adapter = kit.remote.wait_for_job('{job}')",
        "ko": "지켜보기만 멈췄고, 파인튜닝 작업 {job}은(는) 배움 서비스에서 계속 "
        "돌아가요. 다시 지켜보다가 끝나면 어댑터를 받으려면: "
        "adapter = kit.remote.wait_for_job('{job}')",
    },
    "remote_job_interrupted": {
        "en": "Fine-tune job {job} stopped because the Baeum service restarted, and "
        "nothing was saved from it. Fix: run kit.finetune(...) again.",
        "ko": "배움 서비스가 다시 시작되어 파인튜닝 작업 {job}이(가) 멈췄고, 저장된 것은 "
        "없어요. 해결: kit.finetune(...)을 다시 실행하세요.",
    },
    "remote_job_lost": {
        "en": "Lost contact with the Baeum service while waiting for fine-tune job "
        "{job} ({problem}). When the service is back, see how the job ended with: "
        "adapter = kit.remote.wait_for_job('{job}')",
        "ko": "파인튜닝 작업 {job}을(를) 기다리는 동안 배움 서비스와 연결이 끊겼어요"
        "({problem}). 서비스가 돌아오면 작업이 어떻게 끝났는지 이렇게 확인하세요: "
        "adapter = kit.remote.wait_for_job('{job}')",
    },
    "remote_job_failed": {
        "en": "Fine-tune job {job} failed on the Baeum service without saying why. "
        "Fix: run kit.finetune(...) again; if it fails again, show this message to "
        "your teacher.",
        "ko": "파인튜닝 작업 {job}이(가) 배움 서비스에서 이유를 알리지 않고 실패했어요. "
        "해결: kit.finetune(...)을 다시 실행하세요. 또 실패하면 이 메시지를 선생님께 "
        "보여 주세요.",
    },
    "remote_quota_note": {
        "en": "Hub mode: the Baeum service keeps these limits for the whole class.",
        "ko": "허브 모드: 배움 서비스가 반 전체의 이 한도를 지켜요.",
    },
    "remote_cli_help_class": {
        "en": "every student's usage (in hub mode: from the Baeum service; teachers)",
        "ko": "모든 학생의 사용량 (허브 모드에서는 배움 서비스에서 가져옴; 선생님용)",
    },
    "remote_cli_source": {
        "en": "the Baeum service's quota file ({url})",
        "ko": "배움 서비스의 할당량 파일 ({url})",
    },
    "remote_cli_saved": {
        "en": "Saved in the Baeum service's quota file ({url}). Students' next "
        "requests use the new limits.",
        "ko": "배움 서비스의 할당량 파일({url})에 저장했어요. 학생들의 다음 요청부터 새 "
        "한도가 적용돼요.",
    },
    "remote_cli_no_timezone": {
        "en": "In hub mode the class's time zone is set where the Baeum service runs: "
        "there, run `kit quota set --timezone ZONE` with KIT_QUOTA_FILE set to the "
        "service's quota file (and KIT_SERVICE_URL unset).",
        "ko": "허브 모드에서는 반의 시간대를 배움 서비스가 돌아가는 곳에서 정해요. 그곳에서 "
        "KIT_QUOTA_FILE을 서비스의 할당량 파일로 지정하고(KIT_SERVICE_URL은 비우고) "
        "`kit quota set --timezone 시간대`를 실행하세요.",
    },
    "adapter_zip_too_big": {
        "en": "The adapter is {size}, more than the Baeum service accepts ({limit}). "
        "Fix: train it again with a smaller rank (for example rank=8): its files get "
        "smaller.",
        "ko": "어댑터 크기가 {size}로, 배움 서비스가 받는 크기({limit})보다 커요. 해결: "
        "rank를 더 작게(예: rank=8) 해서 다시 학습하세요. 파일이 작아져요.",
    },
    "adapter_zip_damaged": {
        "en": "The adapter's zip cannot be read ({problem}), so nothing was stored. "
        "Fix: save the adapter again with adapter.save(...), or zip its folder again, "
        "and send the new one.",
        "ko": "어댑터의 zip 파일을 읽을 수 없어서({problem}) 아무것도 저장하지 않았어요. "
        "해결: adapter.save(...)로 어댑터를 다시 저장하거나 폴더를 다시 압축해서 새 "
        "파일을 보내세요.",
    },
    "adapter_zip_unsafe": {
        "en": "The adapter's zip holds '{entry}': a path that leads outside the adapter "
        "folder, or a file name given twice. Nothing was stored. Fix: zip only the "
        "files inside the adapter folder.",
        "ko": "어댑터의 zip 안에 '{entry}'이(가) 있어요. 어댑터 폴더 밖을 가리키는 "
        "경로이거나 두 번 나온 파일 이름이라서 아무것도 저장하지 않았어요. 해결: 어댑터 "
        "폴더 안의 파일만 압축하세요.",
    },
    "adapter_zip_incomplete": {
        "en": "This zip is not a saved adapter: {missing} is missing. Fix: zip the "
        "folder adapter.save(...) wrote, with kit-adapter.json, adapter_config.json "
        "and adapter_model.safetensors at its top (or inside one folder).",
        "ko": "이 zip은 저장된 어댑터가 아니에요. {missing}이(가) 없어요. 해결: "
        "adapter.save(...)가 만든 폴더를 압축하세요. 맨 위(또는 폴더 하나 안)에 "
        "kit-adapter.json, adapter_config.json, adapter_model.safetensors가 있어야 "
        "해요.",
    },
}
