"""The evidence contract: what kinds of evidence exist and which flags a check may raise on them."""

from enum import StrEnum


class EvidenceKind(StrEnum):
    """What an item of evidence is; receipts and call records may be metadata alone."""

    call_record = "call_record"
    sms_receipt = "sms_receipt"
    email_receipt = "email_receipt"
    edelivery_receipt = "edelivery_receipt"
    photo = "photo"
    video = "video"
    ems_trace = "ems_trace"
    return_receipt_scan = "return_receipt_scan"
    # CPL 87, 88: the signature on the 送达回证 proves a direct service; either drawn on the agent's screen (PNG)
    # or signed on paper and photographed or scanned (JPEG, PNG, PDF). Neither is a photo of a scene.
    signature = "signature"
    signed_receipt = "signed_receipt"
    # OLR Art. 29(2): a law firm's signed standing agreement with courts to be served electronically. It is about no
    # notice: it is filed under its firm (notice_id "firm:<USCC>") and logged like every item, so its hash is provable.
    firm_agreement = "firm_agreement"


class PhotoScene(StrEnum):
    """What a photo shows: a posted notice (Interp. 138), a refusal (CPL 89) or a visit."""

    posting = "posting"
    refusal = "refusal"
    visit = "visit"


class EvidenceFlag(StrEnum):
    """What a check found doubtful about an item; delivery's policy decides which flags block a service."""

    no_gps = "no_gps"
    far_from_address = "far_from_address"
    time_mismatch = "time_mismatch"
    exif_stripped = "exif_stripped"
    edited_by_software = "edited_by_software"
    no_reference_location = "no_reference_location"
