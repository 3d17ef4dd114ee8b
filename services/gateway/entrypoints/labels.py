"""Words on the pages, in Simplified Chinese (default) and English."""
from __future__ import annotations

_LABELS: dict[str, tuple[str, str]] = {
    "app": ("楼组", "Louzu"),
    "signin": ("登录", "Sign in"), "signout": ("退出", "Sign out"), "user_id": ("用户名", "User id"),
    "password": ("密码", "Password"), "language": ("English", "中文"),
    "town_console": ("街镇调度台", "Town dispatcher console"), "compound": ("小区", "Compound"),
    "sealed": ("封控楼栋", "Sealed buildings"), "phase": ("阶段", "Phase"), "hours_left": ("剩余小时", "Hours left"),
    "rounds": ("核酸进度", "Testing rounds"), "unreported": ("未报体温", "Unreported"), "fevers": ("发热", "Fevers"),
    "deliveries": ("待送物资", "Open deliveries"), "oldest": ("最早请求", "Oldest request"),
    "rota_gaps": ("门岗缺人", "Rota gaps"), "reinforcements": ("增援请求", "Reinforcement requests"),
    "dispatch": ("派人", "Dispatch"), "people": ("人数", "People"), "sent": ("已派", "Sent"),
    "reason": ("原因", "Reason"), "days": ("日期", "Days"), "live": ("实时更新", "Live"),
    "committee_console": ("居委工作台", "Committee console"), "buildings": ("楼栋", "Buildings"),
    "households": ("户数", "Households"), "cadre": ("包干干部", "Cadre"), "seal": ("封控", "Seal"),
    "seal_building": ("封控楼栋", "Seal a building"), "building": ("楼号", "Building"), "town": ("街镇", "Town"),
    "ordered_by": ("指令来源", "Ordered by"), "roster": ("楼组表", "Roster"), "checkoff": ("核酸核对", "Check-off"),
    "queue": ("物资队列", "Supply queue"), "rota": ("门岗排班", "Rota"), "tasks": ("工作清单", "Tasks"),
    "notices": ("通告", "Notices"), "qr": ("居民扫码", "Resident QR code"), "print_pdf": ("打印 PDF", "Print PDF"),
    "print_xlsx": ("导出 Excel", "Export XLSX"), "floor": ("楼", "Floor"), "room": ("室号", "Room"),
    "name": ("姓名", "Name"), "age": ("年龄", "Age"), "flags": ("标记", "Flags"), "morning": ("上午", "AM"),
    "afternoon": ("下午", "PM"), "sampling": ("核酸", "Test"), "group": ("群", "Group"), "out": ("外出", "Out"),
    "transferred": ("转运", "Transferred"), "residents": ("人数", "Residents"), "sampled": ("已采", "Sampled"),
    "not_sampled": ("未采", "Not yet"), "due": ("截止", "Due"), "done": ("已完成", "Done"),
    "no_round": ("当前没有核酸轮次", "No testing round now"), "tube": ("试管号", "Tube"),
    "scan_code": ("扫描或输入采样码（回车）", "Scan or type a sampling code (Enter)"),
    "pending_sync": ("待发送（离线）", "Waiting to send (offline)"), "tap_to_check": ("点击姓名核对", "Tap a name to check off"),
    "resident_page": ("居民服务", "Resident services"), "identify": ("请输入室号和手机尾号", "Enter your room and the last 4 digits of your phone"),
    "phone_last4": ("手机尾号 4 位", "Last 4 digits of phone"), "continue": ("继续", "Continue"),
    "report_temp": ("上报体温", "Report temperature"), "temperature": ("体温 °C", "Temperature °C"),
    "symptoms": ("症状（可不填）", "Symptoms (optional)"), "need": ("需要帮助（可不填）", "Need help with (optional)"),
    "submit": ("提交", "Submit"), "ask_supplies": ("申请物资", "Ask for supplies"), "items": ("需要什么", "What is needed"),
    "category": ("类别", "Category"), "urgent": ("紧急", "Urgent"), "my_requests": ("我的申请", "My requests"),
    "status": ("状态", "Status"), "volunteer_page": ("志愿者", "Volunteer"), "my_shifts": ("我的班次", "My shifts"),
    "my_deliveries": ("我的配送（按路线）", "My deliveries (walking order)"), "gate_log": ("门岗登记", "Gate log"),
    "direction": ("方向", "Direction"), "record": ("登记", "Record"), "saved": ("已提交", "Sent"),
    "link_expired": ("二维码已失效，请联系居委", "This QR code has expired; ask the committee"),
    "no_match": ("没有找到该室号和手机尾号，请核对", "No household matches that room and phone"),
    "too_many": ("尝试过多，请稍后再试", "Too many attempts; try again later"),
    "medicine": ("药品", "Medicine"), "food": ("食品", "Food"), "daily_goods": ("日用品", "Daily goods"),
    "medical_supplies": ("医疗用品", "Medical supplies"), "total": ("合计", "Total"),
    "not_found": ("找不到该页面或记录", "Not found"),
}


def table(lang: str) -> dict[str, str]:
    index = 1 if lang == "en" else 0
    return {key: pair[index] for key, pair in _LABELS.items()}
