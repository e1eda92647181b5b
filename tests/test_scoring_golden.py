"""Golden extraction table: real response snippets from the four benchmarks' published
outputs, plus the edge cases the scorer promises to handle (article "A", pronoun "I",
<think> blocks, several labels, option text, units). Each row fixes the extracted answer
and the verdict, so any behaviour change shows up here and forces a scorer version bump.
"""
from __future__ import annotations

from typing import get_args

import pytest

from vold_bench.schema import AnswerType, Item
from vold_bench.scoring import SCORERS, reward, score, scorer_version

# (bench, source file, item id, response snippet, gold, answer_type, labels, options, precision,
#  expected extraction, expected correct). Snippets are the tails of real responses in
# ../shared/benchmarks/published/ (quoted as test data); each expected value was checked by hand
# and agrees with the official per-item judgement.
PUBLISHED = [
    ('mathvista', 'bard', '879', 'is 1 small blue sphere in the image.\n\nTherefore, after subtracting all large gray rubber things and all small blue spheres, there are **2 objects left**.\n\nIs there anything else I can help you with?', '2', 'integer', [], [], None, '2', True),
    ('mathvista', 'bard', '350', 'of the line. The line is about **8** centimeters long.\n\nThe line starts at the 0cm mark and ends at the 8cm mark. The nearest centimeter mark is 8cm.\n\nIs there anything else I can help you with?', '4', 'integer', [], [], None, '8', False),
    ('mathvista', 'bard', '383', 'The largest bar value in the image is 262,507 thousand euros. If we divide this value by 2, we get 131,253.5 thousand euros. Rounding to one decimal place, the answer is 131.3 thousand euros.\n\nSo the answer is 131.3', '131253.5', 'float', [], [], 1, '131.3', False),
    ('mathvista', 'chatgpt', '162', 'The number of flocks that had at least 17 birds but fewer than 33 birds is 15.', '4', 'integer', [], [], None, '15', False),
    ('mathvista', 'chatgpt', '230', '3', '0', 'integer', [], [], None, '3', False),
    ('mathvista', 'chatgpt', '292', '(B) no', 'B', 'choice', ['A', 'B'], ['yes', 'no'], None, 'B', True),
    ('mathvista', 'claude_2shot_solution', '107', 'Since the clock shows the small hand between 6 and 7, and closer to 7, it indicates that the time is 15 minutes past 6. \n\nThe answer is E (quarter past).\n\nIt is quarter past six.', 'B', 'choice', ['A', 'B', 'C', 'D', 'E'], ['half', 'quarter', "o'clock", 'quarter to', 'quarter past'], None, 'E', False),
    ('mathvista', 'claude_2shot_solution', '727', 'is 18.\nThe smallest value is 6.\n\nTo find the difference between the largest and smallest values:\n18 - 6 = 12\n\nTherefore, the difference between the largest and smallest value in the chart is 12.', '70', 'integer', [], [], None, '12', False),
    ('mathvista', 'claude_2shot_solution', '406', 'There are 3 snowmen in the image.', '15', 'integer', [], [], None, '3', False),
    ('mathvista', 'gpt4_2shot_solution_use_ocr', '948', '8 students, so we divide 84 by 8.\n\n84 ÷ 8 = 10.5\n\nHowever, since the question asks for an integer answer, we round 10.5 to the nearest whole number, which is 11.\n\nSo, the mean of the numbers is 11.', '11', 'integer', [], [], None, '11', True),
    ('mathvista', 'gpt4_2shot_solution_use_ocr', '691', 'The image shows a pattern where the number in the middle of the triangle is the square of the number at the top of the triangle. \n\nSo, the missing number should be the square of 3, which is 9.', '256', 'integer', [], [], None, '9', False),
    ('mathvista', 'gpt4_2shot_solution_use_ocr', '954', 'the mouse and cricket. The rabbit is not a direct prey of the snake, so its population will not be directly affected by a decrease in the snake population.\n\nTherefore, the answer is (D) All of above.', 'D', 'choice', ['A', 'B', 'C', 'D'], ['Cricket will increase', 'Mouse will increase', 'Rabbit will increase', 'All of above'], None, 'D', True),
    ('mathvista', 'idefics_9b_instruct', '122', '(A) Yes', 'B', 'choice', ['A', 'B'], ['Yes', 'No'], None, 'A', False),
    ('mathvista', 'idefics_9b_instruct', '291', "The answer is (E) Jun '21.", 'D', 'choice', ['A', 'B', 'C', 'D', 'E'], ["Jul '21", "Jun '21", "Mar '21", "May '21", "Apr '21"], None, 'E', False),
    ('mathvista', 'idefics_9b_instruct', '726', 'the question assumes that any segment that appears to be tangent is tangent, you can assume that the given equation is correct.\n\nTherefore, the value of x is 1.\n\nTherefore, the answer is: (C) 90.', 'A', 'choice', ['A', 'B', 'C', 'D'], ['10', '30', '90', '120'], None, 'C', False),
    ('mathvista', 'instruct_blip2_vicuna_13b', '77', '? 2013', '2019', 'integer', [], [], None, '2013', False),
    ('mathvista', 'instruct_blip2_vicuna_13b', '885', '1', '18', 'integer', [], [], None, '1', False),
    ('mathvista', 'instruct_blip2_vicuna_13b', '894', '10', '9', 'integer', [], [], None, '10', False),
    ('mathvista', 'llava_llama_2_13b', '770', 'The amplitude of this function is 1.', '1', 'integer', [], [], None, '1', True),
    ('mathvista', 'llava_llama_2_13b', '593', 'The average of the longest light blue bar and the shortest gray bar is 1.', '273', 'integer', [], [], None, '1', False),
    ('mathvista', 'llava_llama_2_13b', '317', 'The age gap between the two people in the image is 20 years.', '6', 'integer', [], [], None, '20', False),
    ('mathvista', 'minigpt4_llama2', '524', 'The answer to the question is 5.\n\nThe table shows that 5 guests went sledding more than 2 times last winter.</s>', '0', 'integer', [], [], None, '5', False),
    ('mathvista', 'minigpt4_llama2', '957', 'The answer to the question is (A) Yes. There are more big brown buses behind the gray matte airplane than yellow shiny scooters.</s>', 'A', 'choice', ['A', 'B'], ['Yes', 'No'], None, 'A', True),
    ('mathvista', 'minigpt4_llama2', '660', 'The answer to the question is (B) No, there are more yellow tandem bikes than small fighters.</s>', 'B', 'choice', ['A', 'B'], ['Yes', 'No'], None, 'B', True),
    ('mathvision', 'ChatGPT3', '1758', '$PQR$:\n$\\text{Area of } PQR = \\text{Area of } PST - \\text{Area of } PTR - \\text{Area of } SQT$\n$\\text{Area of } PQR = 90 - 20 - 150$\n$\\boxed{20}$\n\nTherefore, the area of triangle $PQR$ is 20.', '80', 'math', [], [], None, '20', False),
    ('mathvision', 'ChatGPT3', '68', '(since half of 12 is 6). Since he currently has 6 animals, he would need 12 - 6 = 6 more cows.\n\nTherefore, Old McDonald needs 6 more cows so that exactly half of all his animals are cows.\n\n\\boxed{6}', '2', 'math', [], [], None, '6', False),
    ('mathvision', 'ChatGPT3', '1612', 'Therefore, they will land on the same vertex after 8/7 = 1 full routine.\n\nTherefore, the heart and the arrow will land in the same place as each other for the first time after \\boxed{1} routine.', 'E', 'choice', ['A', 'B', 'C', 'D', 'E'], ['7', '8', '9', '10', 'It will never happen'], None, None, False),
    ('mathvision', 'Gemini-Pro-CoT', '2560', 'You can fold the pattern along the lines to form a cube for all the patterns except (D).\n\nThe answer is: (D)', 'D', 'choice', ['A', 'B', 'C', 'D', 'E'], ['A', 'B', 'C', 'D', 'E'], None, 'D', True),
    ('mathvision', 'Gemini-Pro-CoT', '1107', 'is an overlap in the area where two of the triangles overlap, so we need to subtract this area. The area of the overlap is 1 x 2 = 2.\n\nTherefore, the final area of the shape is 8 - 2 = 6.\n\n\\boxed{6}', '6', 'math', [], [], None, '6', True),
    ('mathvision', 'Gemini-Pro-CoT', '653', ' must be on square 3, and  must be on square 2. That leaves square 4 for .\n\nTherefore, the final arrangement is as follows:\n\nSquare 1: \nSquare 2: \nSquare 3: \nSquare 4: \nSquare 5: \n\nThe answer is D.', '4', 'math', [], [], None, 'D', False),
    ('mathvision', 'InternLM-XComposer2-VL-CoT', '485', 'The answer is \\boxed{80}.', '56', 'math', [], [], None, '80', False),
    ('mathvision', 'InternLM-XComposer2-VL-CoT', '2512', 'of the sides without more information.\nTherefore, the answer is $\\boxed{\\text{cannot be determined from the information given}}$.The answer is: \\text{cannot be determined from the information given}', 'C', 'choice', ['A', 'B', 'C', 'D', 'E'], ['$14$', '$20$', '$28$', '$48$', '$\\text{cannot be determined from the information given}$'], None, 'E', False),
    ('mathvision', 'InternLM-XComposer2-VL-CoT', '31', '5', 'B', 'choice', ['A', 'B', 'C', 'D', 'E'], ['A', 'B', 'C', 'D', 'E'], None, None, False),
    ('mathvision', 'LLaVA-v1', '1960', '32', '9', 'math', [], [], None, '32', False),
    ('mathvision', 'LLaVA-v1', '1057', '6', '6', 'math', [], [], None, '6', True),
    ('mathvision', 'LLaVA-v1', '1461', '(D) 1120', 'C', 'choice', ['A', 'B', 'C', 'D', 'E'], ['$360^{\\circ}$', '$900^{\\circ}$', '$1080^{\\circ}$', '$1120^{\\circ}$', '$1440^{\\circ}$'], None, 'D', False),
    ('mathvision', 'Qwen-VL-Max', '1465', '4', '9', 'math', [], [], None, '4', False),
    ('mathvision', 'Qwen-VL-Max', '2337', '2$\\sqrt{10}$', 'A', 'choice', ['A', 'B', 'C', 'D', 'E'], ['$2\\sqrt{10}$', '$11$', '$6\\sqrt{6}$', '$6$', '$\\text{not uniquely determined by the given information}$'], None, 'A', True),
    ('mathvision', 'Qwen-VL-Max', '2073', '34', '871', 'math', [], [], None, '34', False),
    ('mathvision', 'SPHINX-v2', '2581', '10', '50', 'math', [], [], None, '10', False),
    ('mathvision', 'SPHINX-v2', '2142', 'A', 'B', 'choice', ['A', 'B', 'C', 'D', 'E'], ['$\\frac{5}{3}\\pi - 3\\sqrt{2}$', '$\\frac{5}{3}\\pi - 2\\sqrt{3}$', '$\\frac{8}{3}\\pi - 3\\sqrt{3}$', '$\\frac{8}{3}\\pi - 3\\sqrt{2}$', '$\\frac{8}{3}\\pi - 2\\sqrt{3}$'], None, 'A', False),
    ('mathvision', 'SPHINX-v2', '1470', '1', '6', 'math', [], [], None, '1', False),
    ('mathvision', 'ShareGPT4V-13B', '1358', 'B', 'C', 'choice', ['A', 'B', 'C', 'D', 'E'], ['$8 \\mathrm{~cm}$', '$(4+2 \\sqrt{3}) \\mathrm{cm}$', '$12 \\mathrm{~cm}$', '$10 \\times \\sqrt{2} \\mathrm{~cm}$', 'It depends on the position of $\\mathrm{E}$.'], None, 'B', False),
    ('mathvision', 'ShareGPT4V-13B', '277', 'A', 'A', 'choice', ['A', 'B', 'C', 'D', 'E'], ['$\\sqrt{6}$', '3', '$\\frac{3 \\sqrt{3}}{2}$', '$2 \\sqrt{2}$', '6'], None, 'A', True),
    ('mathvision', 'ShareGPT4V-13B', '170', '90', '30', 'math', [], [], None, '90', False),
    ('logicvista', 'BLIP2-accuracy-results', 'v1_125', '(A)', 'B', 'multi_choice', ['A', 'B', 'C', 'D'], [], None, 'A', False),
    ('logicvista', 'BLIP2-accuracy-results', 'v1_15', 'A', 'B', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], [], None, 'A', False),
    ('logicvista', 'BLIP2-accuracy-results', 'v1_108', 'C', 'A', 'multi_choice', ['A', 'B', 'C', 'D'], ['Set A', 'Set B', 'Neither set A nor set B'], None, 'C', False),
    ('logicvista', 'GIT-accuracy-results', 'v1_31', 'based on the image, which option from a - e should replace the question mark to follow the pattern present above the separating line? ( select from a - e ). answer : d', 'E', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], [], None, 'D', False),
    ('logicvista', 'GIT-accuracy-results', 'v1_315', 'based on the image, the united kingdom is a slavic country. select from a, b and c. ( a ) true ( b ) false ( c ) insufficient information. answer : bears', 'C', 'multi_choice', ['A', 'B', 'C', 'D'], ['True', 'False', 'Insufficient Information'], None, None, False),
    ('logicvista', 'GIT-accuracy-results', 'v1_425', 'the shaft turning? select from a, b, c, d, and e. ( a ) 1 rpm clockwise, ( b ) the system is jammed, ( c ) 20 rpm clockwise, ( d ) 1 rpm anti - clockwise, ( e ) 20 rpm anti - clockwise.. answer : p', 'E', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['1 RPM clockwise', 'The system is jammed', '20 RPM clockwise', '1 RPM anti-clockwise', '20 RPM anti-clockwise'], None, None, False),
    ('logicvista', 'GPT4-accuracy-results', 'v1_125', 'B', 'B', 'multi_choice', ['A', 'B', 'C', 'D'], [], None, 'B', True),
    ('logicvista', 'GPT4-accuracy-results', 'v1_189', 'C', 'D', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['A', 'B', 'C', 'D', 'E'], None, 'C', False),
    ('logicvista', 'GPT4-accuracy-results', 'v1_76', 'B', 'C', 'multi_choice', ['A', 'B', 'C', 'D'], [], None, 'B', False),
    ('logicvista', 'LLAVA7B-accuracy-results', 'v1_103', 'A', 'A', 'multi_choice', ['A', 'B', 'C', 'D'], ['Set A', 'Set B', 'Neither set A nor set B'], None, 'A', True),
    ('logicvista', 'LLAVA7B-accuracy-results', 'v1_258', "Based on the image, the percentage increase in Graff's revenue from quarter 2 to quarter 4 is (C) 25%.", 'D', 'multi_choice', ['A', 'B', 'C', 'D'], ['33%', '17%', '25%', '50%'], None, 'C', False),
    ('logicvista', 'LLAVA7B-accuracy-results', 'v1_276', 'B', 'E', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['A', 'B', 'C', 'D', 'E'], None, 'B', False),
    ('logicvista', 'instructBLIP-vicuna-7B-accuracy-results', 'v1_105', '\x96 (C) Neither set A nor set B', 'A', 'multi_choice', ['A', 'B', 'C', 'D'], ['Set A', 'Set B', 'Neither set A nor set B'], None, 'C', False),
    ('logicvista', 'instructBLIP-vicuna-7B-accuracy-results', 'v1_343', '3690', 'C', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['3,690', '18,250', '18,450', '9,230', '36,900'], None, 'A', False),
    ('logicvista', 'instructBLIP-vicuna-7B-accuracy-results', 'v1_20', '3', '3', 'multi_choice', ['A', 'B', 'C', 'D', '1', '2', '3', '4', '5'], [], None, '3', True),
    # scorer 1.3: "a cylinder" is the article, not option `A` (class 1 of issue 13)
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_157', 'being displaced from a cylinder, causing it to become less dense and rise to the top of the container. The empty cylinders on either side remain at the same level as before the displacement occurred.', 'A', 'multi_choice', ['A', 'B', 'C', 'D'], ['A', 'B', 'C'], None, None, False),
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_297', 'agreement.\n\nThis statement is false. The concept of national debt has existed since ancient times, and even in pre-modern societies, governments have borrowed money to fund wars or other expenses', 'C', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['Britain national debt involved William II', 'The syndicate would make a profit from their loan', 'National debt is decreed by William III to be paid by investors', 'The syndicate provided loan management for a fee', 'National debt did not exist conceptually before this agreement'], None, None, False),
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_316', "have flags with different colors than Norway's flag, while others have flags that are similar in color. Therefore, there is insufficient information to determine if this statement is true or false.", 'B', 'multi_choice', ['A', 'B', 'C', 'D'], ['True', 'False', 'Insufficient Information'], None, 'C', False),
    ('logicvista', 'otter9B-accuracy-results', 'v1_246', 'B.', 'C', 'multi_choice', ['A', 'B', 'C', 'D'], ['There are 4 rooms in the school', 'The children in Red Room probably wear red clothes', 'All of the classrooms are probably named after colours', 'All of the above'], None, 'B', False),
    ('logicvista', 'otter9B-accuracy-results', 'v1_36', 'Answer: E.', 'A', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], [], None, 'E', False),
    ('logicvista', 'otter9B-accuracy-results', 'v1_49', 'False.', 'A', 'multi_choice', ['A', 'B', 'C', 'D'], ['True', 'False', 'Insufficient Information'], None, 'B', False),
    ('mmmu_pro', 'gpt-4o_standard10_cot', 'test_Electronics_101', '  - Match \\( H(s) = \\frac{2s + 1}{12s + 1} \\) with given options:\n     - This is \\(\\frac{1}{6} \\times \\frac{s + \\frac{1}{2}}{s + \\frac{1}{12}}\\)\n\nTherefore, the correct option is:\n\nAnswer: C', 'C', 'choice', ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'], ['(1/5) [{s + (1/2)} / {s + (1 / 12}]', '(1/6) [{s + (1/2)} / {s + (1 / 6}]', '(1/6) [{s + (1/2)} / {s + (1 / 12}]', '(1/6) [{s + (1/2)} / {s + (1 / 8}]', '(1/4) [{s + (1/2)} / {s + (1 / 12}]', '(1/6) [{s + (1/4)} / {s + (1 / 12}]', '(1/3) [{s + (1/2)} / {s + (1 / 12}]', '(1/7) [{s + (1/2)} / {s + (1 / 12}]', '(1/6) [{s + (1/3)} / {s + (1 / 12}]', '(1/6) [{s + (1/2)} / {s + (1 / 16}]'], None, 'C', True),
    ('mmmu_pro', 'gpt-4o_standard10_cot', 'test_Public_Health_127', 'reference group (114-193 mg/dl)\n   - AR = 12.44 - 0.96 = 11.48 per 100\n\nThe attributable risk for the 231-255 mg/dl group, using the 114-193 mg/dl group as the reference, is 11.48 per 100.\n\nAnswer: C', 'C', 'choice', ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'], ['7.26', '10.14', '11.48', '8.46', '12.70', '4.30', '5.74', '14.35', '6.38', '9.52'], None, 'C', True),
    ('mmmu_pro', 'gpt-4o_standard10_cot', 'test_Pharmacy_414', '\\times 0.524 = 108.992 \\)\n\n3. **Sum the contributions:**\n   \\[ 2.856 + 45.747 + 49.646 + 108.992 = 207.241 \\]\n\nThe approximate atomic mass of lead is 207.241 amu, which rounds to 207 amu.\n\nAnswer: I', 'I', 'choice', ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'], ['209amu', '211amu', '202amu', '205amu', '204amu', '208amu', '203amu', '210amu', '207amu', '206amu'], None, 'I', True),
    ('mmmu_pro', 'gpt-4o_vision_direct', 'test_Energy_and_Power_192', "given problem's choice options:\n\n\\[ P_B = 95000 - 20000 \\approx 75000 \\text{ Pa} \\] (This is adjusted for given answer options)\n\nSo, comparing options:\n- 75145 Pa is option (F): 75450 Pa\n\nAnswer: F", 'F', 'choice', ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I'], ['85200 Pa', '108500 Pa', '90700 Pa', '94500 Pa', '78500 Pa', '75450 Pa', '34100 Pa', '62900 Pa', '67300 Pa'], None, 'F', True),
    ('mmmu_pro', 'gpt-4o_vision_direct', 'test_Music_42', 'Answer: (G) G', 'E', 'choice', ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'], ['C', 'F', 'E', 'H', 'B', 'I', 'J', 'A', 'D', 'G'], None, 'G', False),
    ('mmmu_pro', 'gpt-4o_vision_direct', 'validation_Mechanical_Engineering_20', 'Answer: (A)8kN', 'A', 'choice', ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'], ['8kN', '4kN', '5kN', '11kN', '12kN', '10kN', '6kN', '7kN', '9kN', '3kN'], None, 'A', True),
]

ABCD = ["A", "B", "C", "D"]
ABCDEFGHIJ = list("ABCDEFGHIJ")
CHOICE = ("choice", "multi_choice")

# (name, response, item kwargs, expected extraction, expected correct, expected parse_status)
EDGE = [
    ("article_A_not_label", "Answer: A clock", dict(gold="G", answer_type="choice", labels=ABCDEFGHIJ,
     options=["A memory", "A transition", "An opportunity", "A common experience", "A journey",
              "A warning", "A clock", "Time waits", "An obstacle", "A mystery"]), "G", True, "ok"),
    ("pronoun_I_not_label", "I think the answer is B.", dict(gold="B", answer_type="choice",
     labels=ABCDEFGHIJ), "B", True, "ok"),
    ("refusal_is_no_answer", "I'm sorry, I can't help with that.", dict(gold="I", answer_type="choice",
     labels=ABCDEFGHIJ), None, False, "no_answer"),
    ("last_anchor_wins", "The answer is A... wait, recheck. Final answer: C",
     dict(gold="C", answer_type="choice", labels=ABCD), "C", True, "ok"),
    ("boxed_label", "so we get \\boxed{D}.", dict(gold="D", answer_type="choice", labels=ABCD), "D", True, "ok"),
    ("boxed_text_label", "$\\boxed{\\text{(B)}}$", dict(gold="B", answer_type="choice", labels=ABCD), "B", True, "ok"),
    ("textbf_label", "The answer is \\textbf{(C)}.", dict(gold="C", answer_type="choice", labels=list("ABCDE")),
     "C", True, "ok"),
    ("option_text_with_units", "Therefore, Max weighs $\\boxed{8 \\mathrm{~kg}}$.",
     dict(gold="B", answer_type="choice", labels=list("ABCDE"),
          options=["$4 \\mathrm{~kg}$", "$8 \\mathrm{~kg}$", "$30 \\mathrm{~kg}$", "$56 \\mathrm{~kg}$", "$112 \\mathrm{~kg}$"]),
     "B", True, "ok"),
    ("option_value_degrees", "The angle is $\\boxed{40^\\circ}$.", dict(gold="C", answer_type="choice",
     labels=list("ABCDE"), options=["$80^\\circ$", "$62^\\circ$", "$40^\\circ$", "$46^\\circ$", "None"]), "C", True, "ok"),
    ("option_value_equal_by_value", "\\boxed{120/17}", dict(gold="B", answer_type="choice", labels=list("ABCDE"),
     options=["$4 \\sqrt{3}$", "$\\frac{120}{17}$", "$10$", "$\\frac{17\\sqrt{2}}{2}$", "$7$"]), "B", True, "ok"),
    ("mathvista_option_text_gold", "the answer is 6cm", dict(gold="A", answer_type="choice", labels=ABCD,
     options=["6cm", "7cm", "4cm", "5cm"]), "A", True, "ok"),
    ("duplicate_option_text", "Therefore, the correct option is (D) 18.", dict(gold="C", answer_type="choice",
     labels=ABCD, options=["9", "12", "18", "18"]), "D", True, "ok"),
    ("several_labels_single_item", "Answer: A, E", dict(gold="E", answer_type="choice", labels=ABCDEFGHIJ),
     "A, E", False, "ok"),
    ("multi_select_set", "The answer is B and D.", dict(gold="B, D", answer_type="multi_choice", labels=ABCD),
     "B, D", True, "ok"),
    ("multi_select_order_free", "Answer: D, B", dict(gold="B, D", answer_type="multi_choice", labels=ABCD),
     "B, D", True, "ok"),
    ("multi_select_subset_wrong", "Answer: B", dict(gold="B, D", answer_type="multi_choice", labels=ABCD),
     "B", False, "ok"),
    ("digit_labels", "Answer: 3", dict(gold="3", answer_type="multi_choice", labels=ABCD + ["1", "2", "3", "4", "5"]),
     "3", True, "ok"),
    ("label_outside_labels", "The answer is F.", dict(gold="A", answer_type="choice", labels=ABCD), None, False, "no_answer"),
    ("lowercase_label", "answer : c", dict(gold="C", answer_type="multi_choice", labels=ABCD), "C", True, "ok"),
    ("think_stripped", "<think>maybe A? no</think>The answer is B.", dict(gold="B", answer_type="choice",
     labels=ABCD), "B", True, "ok"),
    ("think_unclosed", "<think>Let me consider option B, so the answer is B", dict(gold="B",
     answer_type="choice", labels=ABCD), None, False, "truncated"),
    ("empty", "   ", dict(gold="B", answer_type="choice", labels=ABCD), None, False, "empty"),
    ("float_precision", "So the answer is 1.23", dict(gold="1.2", answer_type="float", precision=1), "1.23", True, "ok"),
    ("float_precision_wrong", "So the answer is 1.26", dict(gold="1.2", answer_type="float", precision=1), "1.26", False, "ok"),
    ("integer_with_units", "The answer is 27 years.", dict(gold="27", answer_type="integer", unit="years"), "27", True, "ok"),
    ("integer_thousands", "Answer: 1,000", dict(gold="1000", answer_type="integer"), "1000", True, "ok"),
    ("integer_not_truncated", "The answer is 2.7", dict(gold="2", answer_type="integer"), "2.7", False, "ok"),
    ("math_sqrt_equiv", "\\boxed{\\sqrt{12}}", dict(gold="2\\sqrt{3}", answer_type="math"), "\\sqrt{12}", True, "ok"),
    ("math_rounded_value", "the answer is 3.46", dict(gold="2\\sqrt{3}", answer_type="math"), "3.46", True, "ok"),
    ("math_not_2dp_equal", "\\boxed{\\frac{1}{3}}", dict(gold="\\frac{3^{1008}-1}{3^{1009}}", answer_type="math"),
     "\\frac{1}{3}", False, "ok"),
    ("math_mixed_number", "\\boxed{2 1/2}", dict(gold="1", answer_type="math"), "2 1/2", False, "ok"),
    ("math_units_stripped", "$\\boxed{400 \\mathrm{~cm}^{2}}$", dict(gold="400", answer_type="math"), "400", True, "ok"),
    ("math_percent", "\\boxed{20\\%}", dict(gold="20", answer_type="math"), "20", True, "ok"),
    ("math_symbolic", "\\boxed{\\frac{1}{2(d + e)}}", dict(gold="\\frac{1}{2d+2e}", answer_type="math"),
     "\\frac{1}{2(d + e)}", True, "ok"),
    ("text_list", "The answer is [2014, 2016].", dict(gold="[2014, 2016]", answer_type="text"), "[2014, 2016]", True, "ok"),
    ("eos_tokens", "The answer is 4.</s>", dict(gold="4", answer_type="integer"), "4", True, "ok"),
    ("copula_number", "There are 3 objects that are preferred by more than 7 people in at least one category.",
     dict(gold="3", answer_type="integer"), "3", True, "ok"),
]


# Scorer 1.1 (LogicVista miniGPT-4 audit, docs/scoring.md): same columns as PUBLISHED, but the
# expected value is the audited right answer, which here often differs from the official one:
# echoed option lists, walks through every option, hedged "if ..., then the answer would be A"
# and rejected labels choose nothing; "BFalse", "... is A.", "is option B" and "the conclusion
# is that <option text>" choose one. "B, D" still answers a multiple-answer item.
AUDITED = [
    ('mathvista', 'instruct_blip2_vicuna_13b', '65', '(C) Yes\n(D) No', 'A', 'choice', ['A', 'B'], ['Yes', 'No'], None, None, False),  # echo
    ('mathvision', 'Qwen-VL-Max', '160', 'A, b, c', 'A', 'choice', ['A', 'B', 'C', 'D', 'E'], ['A', 'B', 'C', 'D', 'E'], None, None, False),  # echo
    ('logicvista', 'GPT4-accuracy-results', 'v1_2', 'B, D', 'B, D', 'multi_choice', ['A', 'B', 'C', 'D'], [], None, 'B, D', True),  # bare
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_51', '\u200b\n\nA) Developing nations will eventually pay back their loans.\nB) Loans from MDBs are below the market rate of interest.\nD) MDBs lend money as typically short-term loans.', 'C', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['Developing nations will eventually pay back their loans', 'Loans from MDBs are below the market rate of interest', 'MDBs lend money as typically short-term loans', 'MDBs are established as international ventures', 'An aim of MDBs is to provide economic development'], None, None, False),  # echo
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_93', '\u200b\n\nA) Set A\nB) Set B\nC) Neither set A nor set B\n\nThere are four squares in each of the sets A and B. There is no square in the set C.', 'C', 'multi_choice', ['A', 'B', 'C', 'D'], ['Set A', 'Set B', 'Neither set A nor set B'], None, None, False),  # none
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_110', '1. Set A\n2. Set B\n3. Neither set A nor set B', 'C', 'multi_choice', ['A', 'B', 'C', 'D'], ['Set A', 'Set B', 'Neither set A nor set B'], None, None, False),  # echo
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_121', 'The diagram that replaces the question mark is A.\n\nThe four symbols are arranged in two rows of two, with two empty circles and two filled-in circles. ... n corresponds to the following pattern:\n\n* a\\*b*c\\*d\n\nThe first two symbols are arranged in order, as requested by the question, but the last two are out of order. Therefore, the diagram is not a valid arrangement of the symbols according to the given pattern.', 'A', 'multi_choice', ['A', 'B', 'C', 'D'], [], None, 'A', True),  # opening
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_139', "There is not enough information given to determine the car's speed. The fire engine is traveling at 60 mph, but there is no information about the car's speed. It could be traveling at any speed between 0 mph and 60 mph.", 'C', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['80 mph', '70 mph', '60 mph', '50 mph', 'Impossible to tell'], None, 'E', False),  # abstain_option
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_212', "\u200b\n\nThe pie chart shows the combined value of Balcom plc's and Trade ltd's share of the industry in 2022. The chart shows that both companies have approximately equal shares of the industry at $464k and $551k, respectively. This means that Balcom plc and Trade ltd each hold about half of the industry value.\n\n(D) $760k is not an option. It appears that there was an error in the data provided.", 'D', 'multi_choice', ['A', 'B', 'C', 'D'], ['$464k', '$551k', '$604k', '$760k'], None, None, False),  # none
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_230', 'The conclusion that can be drawn from the two statements is that some women are men, but not all men are women.', 'D', 'multi_choice', ['A', 'B', 'C', 'D'], ['Some people who can handle critisism are not men', 'All men are women', 'No men are women', 'Some women are men'], None, 'D', True),  # anchor
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_254', '65.00, 49.59, 55.00, 59.49', 'A', 'multi_choice', ['A', 'B', 'C', 'D'], ['65.00', '49.59', '55.00', '59.49'], None, None, False),  # echo
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_280', '1. A 2. B 3. C 4. D 5. E', 'A', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['A', 'B', 'C', 'D', 'E'], None, None, False),  # echo
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_292', '\u200b\n\nA) Ferret\nB) Owl\nC) Wader\nD) Fox\nE) Hare\n\nBased on the information provided, the best plan to accommodate the 5 employees at the lowest price is option B, the Owl plan. This plan offers the most data for the least amount of money, with a cost of $260 per user. Option C, the Wader plan, has the highest cost at $380 per user, and does not provide as much data. Options A, D, and E are not viable options because they do not offer enough data or are too expensive.', 'B', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['Ferret', 'Owl', 'Wader', 'Fox', 'Hare'], None, 'B', True),  # is_option
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_299', 'As an assistant, I am unable to see the image. However, based on the description provided, I can infer that the question asks whether using 5m² of woo ... r each option. If the price per square meter is the same for all three options, then the answer would be A. If the price per square meter varies, then it could be either B or C. Without further information, it is difficult to determine which option is correct.', 'A', 'multi_choice', ['A', 'B', 'C', 'D'], ['True', 'False', 'Insufficient Information'], None, None, False),  # unreadable_answer
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_306', 'BFalse\n\nThe statement "Things-in-themselves are projected onto mirrors" is false. This statement suggests that objects exist independently of their pe ...  existence for objects. Therefore, option B, "True" cannot be selected as it contradicts modern scientific understanding. Option C, "Insufficient Information" is also not an appropriate answer because it does not provide a complete evaluation of the statement.', 'C', 'multi_choice', ['A', 'B', 'C', 'D'], ['True', 'False', 'Insufficient Information'], None, 'B', False),  # leading_option
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_315', '\u200b\n\nA) False, the United Kingdom is not a Slavic country. It is a member of the European Union and a member of the G7 and G20 countries.\nB) True, the United Kingdom is a Slavic country. It is a member of the European Union, but not a member of the G7 or G20 countries.\nC) Insufficient Information, as the information provided is insufficient to determine whether the United Kingdom is a Slavic country.', 'C', 'multi_choice', ['A', 'B', 'C', 'D'], ['True', 'False', 'Insufficient Information'], None, None, False),  # enumerated
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_366', '* A: The population of Birmingham in 2000 was approximately 871,900.\n* B: The population of Glasgow in 2000 was approximately 583,000.\n* C: The population of Liverpool in 2000 was approximately 474,800.\n* D: The population of Leeds in 2000 was approximately 457,300.', 'D', 'multi_choice', ['A', 'B', 'C', 'D'], ['Birmingham', 'Glasgow', 'Liverpool', 'Leeds'], None, None, False),  # enumerated
    ('logicvista', 'miniGPTvicuna7B-accuracy-results', 'v1_438', '\u200b\n\nA) The sled with the wide runners is likely to be faster down and icy slope. This is because the wider runners provide more surface area for the sled to glide over the snow, which reduces friction and allows for faster movement.\n\nB) All the same. The sleds are identical in terms of width, so there is no way to determine which one would be faster on an icy slope.\n\nC) Impossible to tell. The image does not show any differences between the sleds that would indicate which one would be faster down an icy slope.\n\nD) None of the above. All the sleds have the same runners, so it is impossible to determine which one would be faster on an icy slope.', 'A', 'multi_choice', ['A', 'B', 'C', 'D', 'E'], ['A', 'B', 'C', 'All the same', 'Impossible to tell'], None, None, False),  # enumerated
    # free form: the one number in bold is the answer, not the last detail; "the other
    # choices are (A) ..." and "none of the other answers is correct" are not answer anchors
    ('mathvista', 'bard', '632', 'Sure, I can help you with that.\n\nThe total value of the "More" bar in the image is **52**. This is the percentage of people who say they are paying increased attention to politics since Donald Trump\'s election.\n\nThe bar is divided into three sections: "More", "About the same", and "Less". The "More" section is the largest, with a value of 52. This means that 52% of the people surveyed said they are paying increased attention to politics since Donald Trump\'s election.\n\nThe "About the same" section has a value of 33, and the "Less" section has a value of 13. This means that 33% of the people surveyed said they are paying about the same amount of attention to politics since Donald Trump\'s election, and 13% of the people surveyed said they are paying less attention to politics since Donald Trump\'s election.\n\nI hope this answers your question. Let me know if you have any other questions.', '52', 'integer', [], [], None, '52', True),  # bold
    ('mathvista', 'bard', '730', "The market share of KLA is highest in **2019**, with 25.8%.\n\nIn 2018, KLA's market share was 23.1%. In 2020, it decreased to 15.4%.\n\nI hope this answers your question. Let me know if you have any other questions.", '2019', 'integer', [], [], None, '2019', True),  # bold
    ('mathvista', 'bard', '886', '------\nMarion | 5\nRiverside | 5\nGreenwood | 5\nSalem | 6\nChesterton | 6\n```\n\nSince we have an even number of towns, the median is the average of the two middle numbers, which are 5 and 5. So the median number of grocery stores is **5**.\n\nIn other words, half of the towns have 5 or fewer grocery stores, and half of the towns have 6 or more grocery stores.\n\nIs there anything else I can help you with?', '6', 'integer', [], [], None, '5', False),  # bold
    ('mathvista', 'bard', '902', ' shows the different leaf base shapes, with the corresponding angle measurements. The angle between the leaf blade and the petiole is greater than 90 degrees in the obtuse leaf base. So the answer is (A).\n\nThe other choices are:\n\n* (B) Decurrent: A leaf base that extends down the stem.\n* (C) Cuneate: A leaf base that is wedge-shaped.\n* (D) Acute: A leaf base that has an angle less than 90 degrees.', 'A', 'choice', ['A', 'B', 'C', 'D'], ['obtuse', 'decurrent', 'cuneate', 'acute'], None, 'A', True),  # anchor
    ('mathvista', 'bard', '907', 'The military expenditure value was lower than 0.2% in **1970**.\n\nAccording to the image, the military expenditure of Fiji as a percentage of GDP was 0.1% in 1970. This is the only year in the graph where the military expenditure value is lower than 0.2%.', '1970', 'integer', [], [], None, '1970', True),  # bold
    ('mathvista', 'idefics_9b_instruct', '140', ') buns.\n\nBuns are a type of bread that is often used to hold together sandwiches. They are a good source of carbs, but they have fewer carbs than other types of bread.\n\nThe other choices are (A) soup, (B) water, (C) sandwich, and (D) buns.\n\nSoup is a liquid meal that is made by combining ingredients such as vegetables, meat, and grains. It is a good source of carbs, but it has more carbs than buns', 'A', 'choice', ['A', 'B', 'C', 'D'], ['soup', 'water', 'sandwich', 'buns'], None, 'D', False),  # anchor
    ('logicvista', 'GIT-accuracy-results', 'v1_224', 'based on the image, if sheep, animals and furry animals exist, what logical conclusion can be drawn from the following two statements? all sheep are furry animals all animals are sheep select from a, b, c, and d. ( a ) all furry animals are animals ( b ) some furry animals are not animals ( c ) none of the other answers is correct ( d ) all animals are furry animals. answer : )', 'D', 'multi_choice', ['A', 'B', 'C', 'D'], ['All furry animals are animals', 'Some furry animals are not animals', 'None of the other answers is correct', 'All animals are furry animals'], None, None, False),  # unreadable_answer
]


@pytest.mark.parametrize("row", AUDITED, ids=[f"audited-{r[1]}-{r[2]}" for r in AUDITED])
def test_audited_snippets(row):
    bench, _src, iid, resp, gold, at, labels, options, prec, want_ext, want_ok = row
    item = Item(id=iid, question="", gold=gold, answer_type=at, options=options, labels=labels, precision=prec)
    s = score(resp, item, scorer=bench)
    assert (s.extracted, s.correct) == (want_ext, want_ok), s.detail


@pytest.mark.parametrize("row", PUBLISHED, ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in PUBLISHED])
def test_published_snippets(row):
    bench, _src, iid, resp, gold, at, labels, options, prec, want_ext, want_ok = row
    item = Item(id=iid, question="", gold=gold, answer_type=at, options=options, labels=labels, precision=prec)
    s = score(resp, item, scorer=bench)
    assert (s.extracted, s.correct) == (want_ext, want_ok), s.detail


@pytest.mark.parametrize("row", EDGE, ids=[r[0] for r in EDGE])
def test_edge_cases(row):
    _name, resp, kw, want_ext, want_ok, want_status = row
    s = score(resp, Item(id="x", question="", **kw))
    assert (s.extracted, s.correct, s.parse_status) == (want_ext, want_ok, want_status), s.detail


def test_golden_covers_all_benchmarks():
    """Not only how many rows: every benchmark has snippets graded right and graded wrong, the
    free-form benchmarks both free-form and choice items, the edge table every answer type;
    and each row is consistent: a choice row's gold and expected reading are among its labels
    and its verdict is whether the two are the same set; a correct row has a reading."""
    benches = {r[0] for r in PUBLISHED}
    assert benches == {"mathvista", "mathvision", "logicvista", "mmmu_pro"}
    assert len(PUBLISHED) + len(EDGE) >= 60
    keys = [r[:3] for r in PUBLISHED + AUDITED]
    assert len(keys) == len(set(keys)), "a (bench, source, id) row is repeated"
    for bench in benches:
        rows = [r for r in PUBLISHED if r[0] == bench]
        assert {r[10] for r in rows} == {True, False}, f"{bench}: needs right and wrong verdicts"
        if bench in ("mathvista", "mathvision"):
            assert {r[5] in CHOICE for r in rows} == {True, False}, f"{bench}: needs choice and free-form rows"
    for bench, src, iid, resp, gold, at, labels, _options, _prec, want_ext, want_ok in PUBLISHED + AUDITED:
        row = (bench, src, iid)
        assert resp.strip(), row
        if at in CHOICE:
            gold_set = set(gold.split(", "))
            ext_set = set(want_ext.split(", ")) if want_ext is not None else None
            assert gold_set <= set(labels), row
            assert ext_set is None or ext_set <= set(labels), row
            assert want_ok == (ext_set == gold_set), row
        else:
            assert want_ext is not None or not want_ok, row
    assert {kw["answer_type"] for _, _, kw, *_ in EDGE} == set(get_args(AnswerType))
    assert len({e[0] for e in EDGE}) == len(EDGE), "an edge case name is repeated"
    for name, _resp, _kw, want_ext, want_ok, status in EDGE:
        assert status in ("ok", "no_answer", "truncated", "empty"), name
        assert (want_ext is not None) == (status == "ok"), name
        assert not want_ok or status == "ok", name


def test_toy_scorer_requires_boxed_integer():
    item = Item(id="t", question="", gold="42", answer_type="integer")
    assert score("so \\boxed{42}", item, "toy").correct
    assert score("\\boxed{42.0}", item, "toy").correct
    assert not score("the answer is 42", item, "toy").correct          # format is part of the task
    assert score("the answer is 42", item, "toy").parse_status == "no_answer"
    assert not score("\\boxed{41}", item, "toy").correct


def test_geo3k_free_form_and_mc():
    item = Item(id="g", question="", gold="3\\sqrt{3}", answer_type="math")
    assert score("Thus x = \\boxed{3\\sqrt{3}}", item, "geo3k").correct
    assert score("\\boxed{\\sqrt{27}}", item, "geo3k").correct
    assert not score("\\boxed{3\\sqrt{2}}", item, "geo3k").correct
    assert score("x = 3\\sqrt{3}", item, "geo3k").parse_status == "no_answer"   # boxed only, as in RL papers
    mc = Item(id="g", question="", gold="B", answer_type="choice", labels=ABCD,
              options=["3", "3\\sqrt{3}", "6", "9"])
    assert score("The answer is B", mc, "geo3k-mc").correct
    assert score("\\boxed{3\\sqrt{3}}", mc, "geo3k-mc").correct


def test_reward_is_binary_and_uses_item_scorer():
    item = Item(id="r", question="", gold="7", answer_type="integer", meta={"scorer": "toy"})
    assert reward("\\boxed{7}", item) == 1.0
    assert reward("7", item) == 0.0                  # toy demands \boxed{}
    assert reward("<think>\\boxed{7}", item) == 0.0  # truncated reasoning never earns reward


def test_scorer_versions_and_names():
    for name in ("default", "mathvista", "mathvision", "logicvista", "mmmu_pro", "geo3k", "toy"):
        assert name in SCORERS
        assert scorer_version(name).startswith(name + "-")
    assert scorer_version("mmmu_pro", compat=True) != scorer_version("mmmu_pro")
    from vold_bench.errors import VoldError
    with pytest.raises(VoldError, match="unknown scorer"):
        score("x", Item(id="x", question="", gold="A", answer_type="choice"), scorer="nope")
