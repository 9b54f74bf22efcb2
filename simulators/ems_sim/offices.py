"""Weihai's post offices and their staff, as the simulator's traces name them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Office:
    """A post office: its code, full and short names, and the staff who scan items there."""

    code: str
    name: str
    short: str
    staff: tuple[str, ...]


@dataclass(frozen=True)
class Station(Office):
    """A delivery station (投递部); each postman's mobile is printed in the out-for-delivery node."""

    phones: tuple[str, ...] = ()


# Court mail is taken in at the court's own collection office, then sorted at the district centre.
INTAKE = Office("26420002", "威海市环翠区揽投部", "环翠区揽投部", ("孙丽娜", "周海燕"))
SORTING = Office("26400100", "威海邮区中心", "威海邮区中心", ("吴志强", "郑凯"))

_HUANCUI = Station("26420001", "威海市环翠区投递部", "环翠区投递部", ("王建国", "陈立军", "刘洪涛"), ("13906310000", "13906310021", "13906310057"))
# By the first four digits of the receiver's postcode; anything outside Weihai goes through Huancui.
STATIONS: dict[str, Station] = {
    "2642": _HUANCUI,
    "2643": Station("26430001", "荣成市石岛投递部", "石岛投递部", ("李德胜", "于春波"), ("13906311032", "13906311048")),
    "2644": Station("26440001", "威海市文登区投递部", "文登区投递部", ("谷振华", "丛培刚"), ("13906312015", "13906312090")),
    "2645": Station("26450001", "乳山市城区投递部", "乳山投递部", ("宋文涛", "姜海波"), ("13906313066", "13906313071")),
}

# Names drawn for people who sign for someone else when a script does not name them.
FAMILY_NAMES = ("李秀英", "王桂兰", "张志刚", "刘玉梅", "陈建华", "杨淑珍")
MAIL_ROOM_NAMES = ("刘伟", "赵敏", "孙晓东", "高静")
OTHER_NAMES = ("赵六", "钱卫东", "冯丽")


def station_for(post_code: str | None) -> Station:
    """Returns the station that delivers to a postcode."""
    return STATIONS.get((post_code or "")[:4], _HUANCUI)
