"""Normalisation: the same rules for list names and screened names, backed by maintained tables."""

from __future__ import annotations

import pytest

from chipex.screening.normalize import normaliser, split_aliases


def tokens(s: str) -> tuple[str, ...]:
    return normaliser().name(s).tokens


@pytest.mark.parametrize(
    ("raw", "core", "form"),
    [
        ("Huawei Technologies Co., Ltd.", ("huawei", "tech"), "LLC"),
        ("Siemens GmbH", ("siemens",), "LLC"),
        ("Grupo Bimbo, S.A. de C.V.", ("grp", "bimbo"), "JSC"),
        ("OOO VTK", ("vtk",), "LLC"),
        ("Общество с ограниченной ответственностью Ромашка", ("romashka",), "LLC"),
        ("Obshchestvo S Ogranichennoi Otvetstvennostyu SGM Most", ("sgm", "most"), "LLC"),
        ("华为技术有限公司", (), "LLC"),
        ("曙光信息产业股份有限公司", (), "JSC"),
        ("Huawei Technologies Japan K.K.", ("huawei", "tech", "japan"), "JSC"),
        ("Smith L.L.C.", ("smith",), "LLC"),
    ],
)
def test_legal_forms_in_many_languages_and_scripts(raw: str, core: tuple[str, ...], form: str) -> None:
    n = normaliser().name(raw)
    assert n.tokens == core
    assert n.legal_form == form


def test_abbreviations_fold_to_one_token() -> None:
    # nomenklatura #274: abbreviations in customer data
    assert tokens("SCI & TECH HLDGS INTL") == tokens("Science and Technology Holdings International")
    assert tokens("ABC COMM GRP SRVCES") == tokens("ABC Communications Group Services")
    assert tokens("Semiconductor Mfg Intl Corp") == tokens(
        "Semiconductor Manufacturing International Corporation"
    )


def test_misspelt_table_words_are_corrected() -> None:
    assert tokens("Sabanican Compaany") == tokens("Sabanican Company")
    assert tokens("Nanhai Lumited") == ("nanhai",)


def test_a_word_two_edits_from_a_table_word_is_left_alone() -> None:
    # "nations" and "actions" (of "societe par actions") share "ations": two edits apart, not a typo
    assert tokens("United Nations") == ("united", "nations")
    assert tokens("Nations Trust Bank")[0] == "nations"


def test_swapped_letters_in_a_short_table_word_are_corrected() -> None:
    assert tokens("Acme GRUOP") == tokens("Acme Group")
    assert tokens("Hodlings Acme Gruop")[-1] == tokens("Acme Group")[-1]
    # one letter dropped from a five-letter word is not corrected (too many real words): only a swap
    assert tokens("Acme Grop") == ("acme", "grop")


def test_a_table_word_is_not_corrected_to_another_table_word() -> None:
    # Russian legal-form words transliterated are table words themselves; they stay as spelt
    assert normaliser().name("Obshchestvo s ogranichennoy otvetstvennostyu Romashka").tokens == ("romashka",)


def test_bis_question_mark_artefact_and_apostrophe_agree() -> None:
    assert tokens("Gui?an New District") == tokens("Gui'an New District")


def test_csl_boilerplate_is_not_part_of_the_name() -> None:
    n = normaliser().name(
        "Sinobright Import and Export Company; and any successor, sub-unit, or subsidiary thereof"
    )
    assert n.tokens == ("sinobright", "imp", "exp", "co")


def test_traditional_chinese_becomes_simplified_and_stays_han() -> None:
    simp = normaliser().name("华为技术有限公司")
    trad = normaliser().name("華為技術有限公司")
    assert simp.han == trad.han == "华为技术"
    assert "huawei" in simp.pinyin  # pinyin kept apart, as a weak signal
    assert normaliser().name("曙光資訊產業股份有限公司").han == "曙光信息产业"  # Taiwan phrase 資訊 -> 信息


def test_other_scripts_are_transliterated() -> None:
    # anyascii, then the misspelt-word correction folds "elektroniks" into the electronics token
    assert tokens("Байкал Электроникс") == ("baykal", "elec")


def test_numbers_and_parenthesised_qualifiers_are_kept() -> None:
    hk = normaliser().name("Bank of China (Hong Kong) Limited")
    assert hk.qualifiers == ("hong", "kong")
    assert normaliser().name("CETC 13th Research Institute").numbers == frozenset({"13"})


def test_initials_join_however_written() -> None:
    assert tokens("A.P. Finance") == tokens("A P Finance") == ("ap", "fin")


def test_embedded_aliases_are_split() -> None:
    assert split_aliases("Chitron Electronics Company Ltd., a.k.a. Chi-Chung Electronics Company Ltd.") == [
        "Chitron Electronics Company Ltd",
        "Chi-Chung Electronics Company Ltd",
    ]
    assert split_aliases("Cory (a.k.a Jason Cory Wilson) Wilson")[1] == "Jason Cory Wilson"


def test_number_words_are_digits() -> None:
    # name_bench (nomenklatura contrib/name_bench/cases.csv, tune split): "Brigade Forty 4" is "Brigade 44",
    # "1st International Bank" is "First International Bank"
    assert (
        tokens("Brigade Forty 4") == tokens("Brigade Forty-Four") == tokens("Brigade 44") == ("brigade", "44")
    )
    assert tokens("1st International Bank") == tokens("First International Bank")
    assert tokens("Three Percenters") == ("3", "percenters")


def test_a_legal_form_of_several_words_one_edit_off_is_still_a_legal_form() -> None:
    # name_bench (tune split): "TACTICAL MISSILES CORPORATION JOYNT STOCK COMPANY" is the JSC
    n = normaliser().name("TACTICAL MISSILES CORPORATION JOYNT STOCK COMPANY")
    assert n.tokens == ("tactical", "missiles", "corp") and n.legal_form == "JSC"
    assert tokens("Stock Trading Company") == ("stock", "trdg", "co")  # not a form one word off


def test_a_surname_particle_joins_its_name() -> None:
    # written apart or together, one name; the particle is not dropped as a stop word ("Von Braun" is
    # not "Braun")
    assert tokens("Van der Bilt Holdings") == tokens("Vanderbilt Holdings")
    assert tokens("Von Braun GmbH") == ("vonbraun",) != tokens("Braun GmbH")
    # a "van" with nothing after it but a legal form stays a word
    assert tokens("Rental Van Co") == ("rental",)
