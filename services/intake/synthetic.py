"""A deterministic synthetic data set of historical cases, parties and address confirmations, as flat rows for the bulk importer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from random import Random
from typing import NamedTuple

from shared.contracts.values import resident_id_check_char, uscc_check_char

COLUMNS: tuple[str, ...] = (
    "record",
    "name",
    "party_kind",
    "id_type",
    "id_number",
    "phone",
    "email",
    "address",
    "postcode",
    "lat",
    "lon",
    "source",
    "case_number",
    "stage",
    "role",
    "date",
    "e_delivery",
    "designated_proxy",
)


class _District(NamedTuple):
    code: str  # GB/T 2260
    province: str
    city: str  # "" in a municipality, where the province is the city
    district: str
    postcode: str
    lat: float
    lon: float
    area_code: str
    local_digits: int  # landline digits after the area code, as libphonenumber's metadata has them
    court_province: str  # the province's abbreviation in court codes
    intermediate: str  # the intermediate court's number: "10" in 鲁10
    streets: str  # space-separated


# Basic courts' codes follow their district's GB/T 2260 code (环翠区 371002 → 鲁1002); municipal
# districts fall to numbered intermediate courts, so the intermediate number is given, not derived.
_DISTRICTS: tuple[_District, ...] = (
    _District("371002", "山东省", "威海市", "环翠区", "264200", 37.510, 122.120, "0631", 7, "鲁", "10", "新威路 统一路 文化中路 青岛北路"),
    _District("370102", "山东省", "济南市", "历下区", "250014", 36.666, 117.076, "0531", 8, "鲁", "01", "泉城路 经十路 历山路 解放路"),
    _District("370202", "山东省", "青岛市", "市南区", "266001", 36.067, 120.383, "0532", 8, "鲁", "02", "香港中路 中山路 南京路 闽江路"),
    _District("370602", "山东省", "烟台市", "芝罘区", "264001", 37.540, 121.400, "0535", 7, "鲁", "06", "南大街 北马路 环山路 只楚路"),
    _District("110108", "北京市", "", "海淀区", "100080", 39.959, 116.298, "010", 8, "京", "01", "中关村大街 学院路 知春路 北四环西路"),
    _District("110105", "北京市", "", "朝阳区", "100020", 39.921, 116.443, "010", 8, "京", "03", "建国路 朝阳北路 东三环中路 望京街"),
    _District("110106", "北京市", "", "丰台区", "100071", 39.858, 116.287, "010", 8, "京", "02", "丰台北路 南三环西路 西四环南路"),
    _District("310115", "上海市", "", "浦东新区", "200120", 31.221, 121.544, "021", 8, "沪", "01", "世纪大道 张杨路 浦东南路 陆家嘴环路"),
    _District("310104", "上海市", "", "徐汇区", "200030", 31.188, 121.437, "021", 8, "沪", "01", "漕溪北路 肇嘉浜路 衡山路 虹桥路"),
    _District("120104", "天津市", "", "南开区", "300100", 39.138, 117.150, "022", 8, "津", "01", "鞍山西道 卫津路 复康路 白堤路"),
    _District("500112", "重庆市", "", "渝北区", "401120", 29.718, 106.631, "023", 8, "渝", "01", "金开大道 双龙大道 红锦大道"),
    _District("440106", "广东省", "广州市", "天河区", "510630", 23.125, 113.361, "020", 8, "粤", "01", "天河路 天河北路 体育西路 中山大道"),
    _District("440305", "广东省", "深圳市", "南山区", "518052", 22.533, 113.930, "0755", 8, "粤", "03", "深南大道 南海大道 桃园路"),
    _District("320106", "江苏省", "南京市", "鼓楼区", "210008", 32.066, 118.770, "025", 8, "苏", "01", "中山北路 北京西路 湖南路 汉中路"),
    _District("320508", "江苏省", "苏州市", "姑苏区", "215008", 31.311, 120.617, "0512", 8, "苏", "05", "人民路 干将路 平江路 十全街"),
    _District("320213", "江苏省", "无锡市", "梁溪区", "214000", 31.566, 120.296, "0510", 8, "苏", "02", "中山路 人民路 解放南路"),
    _District("330106", "浙江省", "杭州市", "西湖区", "310013", 30.260, 120.130, "0571", 8, "浙", "01", "文三路 天目山路 曙光路 教工路"),
    _District("330212", "浙江省", "宁波市", "鄞州区", "315100", 29.817, 121.547, "0574", 8, "浙", "02", "天童南路 四明中路 钱湖北路"),
    _District("420106", "湖北省", "武汉市", "武昌区", "430061", 30.554, 114.316, "027", 8, "鄂", "01", "中山路 中南路 武珞路 友谊大道"),
    _District("510107", "四川省", "成都市", "武侯区", "610041", 30.642, 104.043, "028", 8, "川", "01", "人民南路 武侯祠大街 科华北路"),
    _District("610113", "陕西省", "西安市", "雁塔区", "710061", 34.214, 108.948, "029", 8, "陕", "01", "长安南路 小寨东路 雁塔路 高新路"),
    _District("430104", "湖南省", "长沙市", "岳麓区", "410006", 28.235, 112.931, "0731", 8, "湘", "01", "麓山南路 桐梓坡路 岳麓大道"),
    _District("410105", "河南省", "郑州市", "金水区", "450003", 34.800, 113.660, "0371", 8, "豫", "01", "花园路 金水路 文化路 经三路"),
    _District("130102", "河北省", "石家庄市", "长安区", "050011", 38.037, 114.539, "0311", 8, "冀", "01", "中山东路 建设北大街 和平东路"),
    _District("210102", "辽宁省", "沈阳市", "和平区", "110001", 41.789, 123.401, "024", 8, "辽", "01", "中华路 太原街 南京北街 三好街"),
    _District("230103", "黑龙江省", "哈尔滨市", "南岗区", "150001", 45.760, 126.669, "0451", 8, "黑", "01", "红军街 西大直街 学府路"),
    _District("220104", "吉林省", "长春市", "朝阳区", "130012", 43.834, 125.288, "0431", 8, "吉", "01", "人民大街 西安大路 自由大路"),
    _District("340104", "安徽省", "合肥市", "蜀山区", "230031", 31.851, 117.260, "0551", 8, "皖", "01", "长江西路 黄山路 望江西路"),
    _District("350102", "福建省", "福州市", "鼓楼区", "350001", 26.082, 119.304, "0591", 8, "闽", "01", "五四路 杨桥中路 东街"),
    _District("350203", "福建省", "厦门市", "思明区", "361001", 24.445, 118.082, "0592", 7, "闽", "02", "中山路 湖滨南路 厦禾路"),
    _District("360102", "江西省", "南昌市", "东湖区", "330006", 28.685, 115.899, "0791", 8, "赣", "01", "八一大道 阳明路 中山路"),
    _District("530102", "云南省", "昆明市", "五华区", "650021", 25.043, 102.704, "0871", 8, "云", "01", "东风西路 人民中路 青年路"),
    _District("450103", "广西壮族自治区", "南宁市", "青秀区", "530022", 22.817, 108.384, "0771", 7, "桂", "01", "民族大道 东葛路 竹溪大道"),
    _District("140105", "山西省", "太原市", "小店区", "030032", 37.736, 112.565, "0351", 7, "晋", "01", "长风街 坞城路 学府街"),
)
_STREETS = tuple(tuple(d.streets.split()) for d in _DISTRICTS)
# How an address's divisions are written: in full, spaced apart, and without the province (None in a
# municipality, whose district alone would not say which city it is in).
_PREFIXES = tuple(
    (
        f"{d.province}{d.city}{d.district}",
        " ".join(part for part in (d.province, d.city, d.district) if part) + " ",
        f"{d.city}{d.district}" if d.city else None,
    )
    for d in _DISTRICTS
)
# Basic court and intermediate court of each district, e.g. 鲁1002 and 鲁10.
_COURTS = tuple((d.court_province + d.code[2:], d.court_province + d.intermediate) for d in _DISTRICTS)
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")

# Surname, pinyin, weight: the common ones by rough frequency, and a few two-character ones.
_SURNAMES = (
    ("王", "wang", 8),
    ("李", "li", 8),
    ("张", "zhang", 7),
    ("刘", "liu", 6),
    ("陈", "chen", 5),
    ("杨", "yang", 3),
    ("赵", "zhao", 2),
    ("黄", "huang", 2),
    ("周", "zhou", 2),
    ("吴", "wu", 2),
    ("徐", "xu", 2),
    ("孙", "sun", 2),
    ("胡", "hu", 1),
    ("朱", "zhu", 1),
    ("高", "gao", 1),
    ("林", "lin", 1),
    ("何", "he", 1),
    ("郭", "guo", 1),
    ("马", "ma", 1),
    ("罗", "luo", 1),
    ("梁", "liang", 1),
    ("宋", "song", 1),
    ("郑", "zheng", 1),
    ("谢", "xie", 1),
    ("韩", "han", 1),
    ("唐", "tang", 1),
    ("冯", "feng", 1),
    ("于", "yu", 1),
    ("董", "dong", 1),
    ("萧", "xiao", 1),
    ("程", "cheng", 1),
    ("曹", "cao", 1),
    ("袁", "yuan", 1),
    ("邓", "deng", 1),
    ("许", "xu", 1),
    ("傅", "fu", 1),
    ("沈", "shen", 1),
    ("曾", "zeng", 1),
    ("彭", "peng", 1),
    ("吕", "lv", 1),
    ("苏", "su", 1),
    ("卢", "lu", 1),
    ("蒋", "jiang", 1),
    ("蔡", "cai", 1),
    ("贾", "jia", 1),
    ("丁", "ding", 1),
    ("魏", "wei", 1),
    ("薛", "xue", 1),
    ("叶", "ye", 1),
    ("阎", "yan", 1),
    ("余", "yu", 1),
    ("潘", "pan", 1),
    ("杜", "du", 1),
    ("戴", "dai", 1),
    ("夏", "xia", 1),
    ("钟", "zhong", 1),
    ("汪", "wang", 1),
    ("田", "tian", 1),
    ("任", "ren", 1),
    ("姜", "jiang", 1),
    ("范", "fan", 1),
    ("方", "fang", 1),
    ("石", "shi", 1),
    ("姚", "yao", 1),
    ("谭", "tan", 1),
    ("廖", "liao", 1),
    ("邹", "zou", 1),
    ("熊", "xiong", 1),
    ("金", "jin", 1),
    ("陆", "lu", 1),
    ("郝", "hao", 1),
    ("孔", "kong", 1),
    ("白", "bai", 1),
    ("崔", "cui", 1),
    ("康", "kang", 1),
    ("毛", "mao", 1),
    ("邱", "qiu", 1),
    ("秦", "qin", 1),
    ("江", "jiang", 1),
    ("史", "shi", 1),
    ("顾", "gu", 1),
    ("侯", "hou", 1),
    ("邵", "shao", 1),
    ("孟", "meng", 1),
    ("龙", "long", 1),
    ("万", "wan", 1),
    ("段", "duan", 1),
    ("雷", "lei", 1),
    ("钱", "qian", 1),
    ("汤", "tang", 1),
    ("欧阳", "ouyang", 1),
    ("司马", "sima", 1),
    ("上官", "shangguan", 1),
    ("诸葛", "zhuge", 1),
)
_SURNAME_POOL = tuple((surname, pinyin) for surname, pinyin, weight in _SURNAMES for _ in range(weight))
_GIVEN = tuple(
    tuple(pair.split(":"))
    for pair in (
        "伟:wei 芳:fang 娜:na 敏:min 静:jing 丽:li 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 艳:yan 杰:jie 娟:juan 涛:tao "
        "明:ming 超:chao 秀:xiu 霞:xia 平:ping 刚:gang 桂:gui 英:ying 华:hua 玉:yu 兰:lan 文:wen 辉:hui 建:jian 国:guo "
        "峰:feng 鹏:peng 宇:yu 浩:hao 婷:ting 雪:xue 琳:lin 晨:chen 欣:xin 怡:yi 佳:jia 嘉:jia 子:zi 梓:zi 涵:han 轩:xuan "
        "博:bo 俊:jun 凯:kai 海:hai 波:bo 红:hong 梅:mei 燕:yan 萍:ping 玲:ling 晶:jing 颖:ying 倩:qian 慧:hui 瑶:yao "
        "璐:lu 思:si 雨:yu 诗:shi 可:ke 欢:huan 乐:le 志:zhi 永:yong 春:chun 秋:qiu 东:dong 亮:liang 斌:bin 林:lin "
        "彬:bin 成:cheng 晓:xiao 小:xiao 新:xin 金:jin 云:yun 飞:fei 龙:long 天:tian 一:yi 若:ruo 宁:ning 安:an 泽:ze "
        "昊:hao 然:ran 睿:rui 铭:ming 瑞:rui 立:li 德:de 振:zhen 荣:rong 淑:shu 芬:fen 珍:zhen 凤:feng 琴:qin"
    ).split()
)
_TRADE_CHARS = "海辰华鑫泰宏盛达源恒瑞通兴远嘉安信诚德锦瀚润博创联汇丰正昌隆利新元久"
_INDUSTRIES = (
    "贸易",
    "商贸",
    "科技",
    "信息技术",
    "建筑工程",
    "建材",
    "物流",
    "餐饮管理",
    "房地产开发",
    "物业服务",
    "机械制造",
    "食品",
    "文化传媒",
    "装饰工程",
    "汽车销售服务",
    "农业科技",
    "医疗器械",
    "电子商务",
)
_EMAIL_DOMAINS = ("example.com", "example.cn", "example.net", "example.org", "example.com.cn")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Each passes Phone.parse as a mobile with any 8 digits after it (checked once, not per row).
_MOBILE_PREFIXES = tuple(str(p) for p in (*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190)))

_DAYS = 730  # the window: the two years before `today`, today included
_BIRTH_FIRST = date(1950, 1, 1)
_BIRTHS = tuple((_BIRTH_FIRST + timedelta(n)).strftime("%Y%m%d") for n in range((date(2004, 12, 31) - _BIRTH_FIRST).days + 1))

# Upper bound of a uniform draw, stage, case type code, whether an intermediate court hears it, roles by weight.
_STAGES = (
    (0.70, "first_instance", "民初", False, ("plaintiff",) * 4 + ("defendant",) * 5 + ("third_party",)),
    (0.85, "appeal", "民终", True, ("plaintiff",) * 4 + ("defendant",) * 5 + ("third_party",)),
    (0.88, "retrial", "民再", True, ("applicant", "respondent")),
    (1.00, "enforcement", "执", False, ("applicant",) * 2 + ("respondent",) * 3),
)

# text as written, postcode, lat, lon, district index, street part
_Place = tuple[str, str, str, str, int, str]
# name, party_kind, id_type, id_number, email
_Who = tuple[str, str, str, str, str]
# case_number, stage, role
_Case = tuple[str, str, str]
_NO_CASE: _Case = ("", "", "")


def rows(parties: int, *, seed: int = 0, today: date) -> Iterator[dict[str, str]]:
    """Yields the rows of `parties` synthetic parties with their cases and confirmations, spread over the two years before `today`."""
    if parties < 0:
        raise ValueError("parties must not be negative")
    rng = Random(seed)
    r = rng.random
    first = today - timedelta(days=_DAYS - 1)
    days = [(first + timedelta(n)).isoformat() for n in range(_DAYS)]
    years = [(first + timedelta(n)).strftime("%Y") for n in range(_DAYS)]
    people: set[int] = set()
    organisations: set[str] = set()
    sequences: dict[tuple[str, str, str], int] = {}
    for _ in range(parties):
        organisation = r() < 0.15
        d = int(r() * len(_DISTRICTS))
        who = _organisation(rng, d, seen=organisations) if organisation else _person(rng, d, seen=people)
        phone = _mobile(rng) if r() < 0.9 else _landline(rng, d)
        home = _address(rng, d, organisation=organisation)
        registered = "" if r() < 0.5 else days[int(r() * _DAYS)]
        yield _row("party", who, phone=phone, place=home, source="household", day=registered)
        civil = None
        if r() < 0.3:
            civil = _elsewhere(rng, d, organisation=organisation)
            yield _row("party", who, phone=phone, place=civil, source="civil_activity", day=days[int(r() * _DAYS)])
        x = r()
        superseded = r() < 0.03
        for n in range(1 if x < 0.55 else 2 if x < 0.85 else 3):
            rewritten = superseded and n == 0
            # Leaves room after filing for both confirmations, the second strictly later, by today.
            filed = int(r() * (_DAYS - 21 if rewritten else _DAYS))
            case = _case(rng, d, year=years[filed], sequences=sequences)
            x = r()
            if civil is not None and x < 0.3:
                place = _repeat(rng, civil)
            elif x < 0.9:
                place = _repeat(rng, home)
            else:
                place = _elsewhere(rng, d, organisation=organisation)
            yield _row("case", who, phone=phone, place=place, source="filing", day=days[filed], case=case)
            if rewritten or r() < 0.5:
                confirmed = min(filed + int(r() * 21), _DAYS - 1)
                if r() < 0.8:
                    place = _repeat(rng, place)
                else:
                    place = _elsewhere(rng, place[4], organisation=organisation)
                yield _confirmation(rng, who, phone=phone, place=place, case=case, day=days[confirmed])
                if rewritten:
                    later = confirmed + 1 + int(r() * min(90, _DAYS - 1 - confirmed))
                    moved = _elsewhere(rng, place[4], organisation=organisation)
                    while moved[4:] == place[4:]:
                        moved = _elsewhere(rng, place[4], organisation=organisation)
                    place = moved
                    yield _confirmation(rng, who, phone=phone, place=place, case=case, day=days[later])


def _name(rng: Random) -> tuple[str, str, str]:
    """A person's name with the pinyin of its surname and given name."""
    r = rng.random
    surname, surname_pinyin = _SURNAME_POOL[int(r() * len(_SURNAME_POOL))]
    given, given_pinyin = _GIVEN[int(r() * len(_GIVEN))]
    if r() < 0.7:
        second, second_pinyin = _GIVEN[int(r() * len(_GIVEN))]
        given, given_pinyin = given + second, given_pinyin + second_pinyin
    return surname + given, surname_pinyin, given_pinyin


def _person(rng: Random, d: int, *, seen: set[int]) -> _Who:
    """A person born in district `d` with a resident ID number no other party has."""
    r = rng.random
    while True:
        birth, sequence = int(r() * len(_BIRTHS)), int(r() * 1000)
        key = (d * len(_BIRTHS) + birth) * 1000 + sequence
        if key not in seen:
            break
    seen.add(key)
    first17 = f"{_DISTRICTS[d].code}{_BIRTHS[birth]}{sequence:03d}"
    name, surname, given = _name(rng)
    email = ""
    if r() < 0.3:
        x = r()
        if x < 0.4:
            local = f"{surname}.{given}"
        elif x < 0.7:
            local = f"{surname}{given}{_BIRTHS[birth][2:4]}"
        else:
            local = f"{given}{surname}{int(r() * 1000)}"
        email = f"{local}@{_EMAIL_DOMAINS[int(r() * len(_EMAIL_DOMAINS))]}"
    return name, "person", "resident_id", first17 + resident_id_check_char(first17), email


def _organisation(rng: Random, d: int, *, seen: set[str]) -> _Who:
    """A limited company registered in district `d` with a unified social credit code no other party has."""
    r = rng.random
    district = _DISTRICTS[d]
    while True:
        first17 = f"91{district.code}{''.join(_USCC_CHARSET[int(r() * 31)] for _ in range(9))}"
        if first17 not in seen:
            break
    seen.add(first17)
    trade = _TRADE_CHARS[int(r() * len(_TRADE_CHARS))] + _TRADE_CHARS[int(r() * len(_TRADE_CHARS))]
    name = f"{district.city or district.province}{trade}{_INDUSTRIES[int(r() * len(_INDUSTRIES))]}有限公司"
    email = ""
    if r() < 0.3:
        letters = "".join(_LETTERS[int(r() * 26)] for _ in range(3 + int(r() * 4)))
        email = f"{letters}{int(r() * 100)}@{_EMAIL_DOMAINS[int(r() * len(_EMAIL_DOMAINS))]}"
    return name, "organisation", "uscc", first17 + uscc_check_char(first17), email


def _mobile(rng: Random) -> str:
    """A mobile number written nationally."""
    r = rng.random
    return f"{_MOBILE_PREFIXES[int(r() * len(_MOBILE_PREFIXES))]}{int(r() * 100_000_000):08d}"


def _landline(rng: Random, d: int) -> str:
    """A landline number in district `d`'s city, area code first."""
    r = rng.random
    district = _DISTRICTS[d]
    rest = district.local_digits - 1
    # Local numbers starting 2–7 are valid in every area code of the table; 0, 1 and some 8s and 9s are not.
    return f"{district.area_code}-{2 + int(r() * 6)}{int(r() * 10**rest):0{rest}d}"


def _address(rng: Random, d: int, *, organisation: bool) -> _Place:
    """A new street address in district `d`, with a flat for a person or a floor for an organisation now and then."""
    r = rng.random
    district = _DISTRICTS[d]
    streets = _STREETS[d]
    street = f"{streets[int(r() * len(streets))]}{1 + int(r() * 300)}号"
    if r() < 0.45:
        if organisation:
            street += f"{2 + int(r() * 30)}层"
        else:
            street += f"{1 + int(r() * 20)}号楼{1 + int(r() * 6)}单元{1 + int(r() * 30)}0{1 + int(r() * 4)}室"
    lat = f"{district.lat + (r() - 0.5) * 0.03:.5f}"
    lon = f"{district.lon + (r() - 0.5) * 0.03:.5f}"
    return _PREFIXES[d][0] + street, district.postcode, lat, lon, d, street


def _elsewhere(rng: Random, d: int, *, organisation: bool) -> _Place:
    """A new address, in district `d` more often than not."""
    r = rng.random
    return _address(rng, d if r() < 0.6 else int(r() * len(_DISTRICTS)), organisation=organisation)


def _repeat(rng: Random, place: _Place) -> _Place:
    """The same place again, one time in ten written another way the normaliser must see through."""
    r = rng.random
    if r() >= 0.1:
        return place
    _, postcode, lat, lon, d, street = place
    full, spaced, short = _PREFIXES[d]
    x = r()
    if x < 1 / 3:
        text = full + street.translate(_FULL_WIDTH)
    elif x < 2 / 3 or short is None:
        text = spaced + street
    else:
        text = short + street
    return text, postcode, lat, lon, d, street


def _case(rng: Random, d: int, *, year: str, sequences: dict[tuple[str, str, str], int]) -> _Case:
    """A case of a court for district `d`, numbered after the last case of its court, type and year."""
    r = rng.random
    x = r()
    # The last bound is 1.0 and random() < 1, so a stage is always found.
    _, stage, type_code, intermediate, roles = next(row for row in _STAGES if x < row[0])
    court = _COURTS[d][intermediate]
    key = (year, court, type_code)
    # Gaps stand for the court's cases that are not in the data set.
    sequence = sequences.get(key, 0) + 1 + rng.getrandbits(2)
    sequences[key] = sequence
    return f"（{year}）{court}{type_code}{sequence}号", stage, roles[int(r() * len(roles))]


def _confirmation(rng: Random, who: _Who, *, phone: str, place: _Place, case: _Case, day: str) -> dict[str, str]:
    """A 送达地址确认书 for `case`: the confirmed address and phone, consent to electronic delivery, a proxy."""
    r = rng.random
    if r() < 0.1:
        phone = _mobile(rng)
    e_delivery = ""
    if r() < 0.4:
        # SMS goes to a mobile (they start with 1, landlines with 0), so a party with a landline gives one.
        sms = f"sms={phone if phone[0] == '1' else _mobile(rng)}"
        email = who[4]
        x = r()
        if not email or x < 0.4:
            e_delivery = sms
        elif x < 0.7:
            e_delivery = f"email={email}"
        else:
            e_delivery = f"{sms};email={email}"
    proxy = _name(rng)[0] if r() < 0.05 else ""
    # A confirmation is the party's own statement; its role belongs to the case row.
    unroled = (case[0], case[1], "")
    return _row("confirmation", who, phone=phone, place=place, source="confirmation", day=day, case=unroled, e_delivery=e_delivery, proxy=proxy)


def _row(record: str, who: _Who, *, phone: str, place: _Place, source: str, day: str, case: _Case = _NO_CASE, e_delivery: str = "", proxy: str = "") -> dict[str, str]:
    """One flat row in the order of COLUMNS."""
    return {
        "record": record,
        "name": who[0],
        "party_kind": who[1],
        "id_type": who[2],
        "id_number": who[3],
        "phone": phone,
        "email": who[4],
        "address": place[0],
        "postcode": place[1],
        "lat": place[2],
        "lon": place[3],
        "source": source,
        "case_number": case[0],
        "stage": case[1],
        "role": case[2],
        "date": day,
        "e_delivery": e_delivery,
        "designated_proxy": proxy,
    }
