"""The papers a court serves in a first-instance civil case (起诉状副本, 应诉通知书, 传票) as small PDFs in Chinese, for the demo and the examples."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from shared.plumbing.pdf import html_to_pdf


@dataclass(frozen=True)
class Paper:
    """One document of a notice: its title and kind as the notice names them, and the paragraphs of its body."""

    title: str
    kind: str
    body: tuple[str, ...]


def papers(*, court_name: str, case_number: str, cause: str, defendant: str) -> list[Paper]:
    """Returns the three papers served on a defendant at the start of a first-instance case."""
    return [
        Paper(
            "起诉状副本",
            "complaint_copy",
            (
                f"原告李四诉被告{defendant}{cause}一案，原告向{court_name}提起诉讼。",
                "诉讼请求：一、判令被告偿还借款本金人民币伍万元及利息；二、本案诉讼费用由被告负担。",
                "事实与理由：被告于二〇二四年三月向原告借款，约定一年内归还，到期后经原告多次催要未还。",
            ),
        ),
        Paper(
            "应诉通知书",
            "notice_to_respond",
            (
                f"{defendant}：本院已受理原告李四诉你{cause}一案，案号{case_number}。",
                "依照《中华人民共和国民事诉讼法》第一百二十八条，你应在收到起诉状副本之日起十五日内提出答辩状。",
            ),
        ),
        Paper(
            "传票",
            "summons",
            (
                f"案号：{case_number}　案由：{cause}",
                f"被传唤人：{defendant}　事由：开庭审理",
                "应到时间：另行通知　应到处所：本院第三审判庭",
                "注意事项：被传唤人须准时到达；经传票传唤无正当理由拒不到庭的，依法处理。",
            ),
        ),
    ]


def render(paper: Paper, *, court_name: str) -> bytes:
    """Returns one paper as a one-page A4 PDF headed by the court."""
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in paper.body)
    html = (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
        "<style>@page { size: A4; margin: 25mm } body { font-size: 12pt; line-height: 1.8 } h1, h2 { text-align: center; font-weight: normal }</style>"
        f"<body><h2>{escape(court_name)}</h2><h1>{escape(paper.title)}</h1>{paragraphs}</body></html>"
    )
    return html_to_pdf(html, base_url=".")
