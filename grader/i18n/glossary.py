"""The course's terms in every language: one table, so that a term reads the same in every message.

The Chinese terms are those of the course's textbook (《神经网络与深度学习》, section 7.3) and its lecture
notes: 学习率调整 (AdaGrad, RMSprop), 梯度估计修正 (动量法, Adam). tests/test_catalogs.py holds every
translation to it: a message whose English uses a term (as a word, not inside an identifier such as
`gradient_x`) must use the term's translation. Identifiers, formulas and the optimizers' names (AdaGrad,
RMSprop, Momentum, Nesterov, Adam, SGD) are never translated. Not imported at run time.
"""

#: English term (lower case; the test also accepts its plural with -s) -> its translation, per language.
TERMS = {
    "zh-CN": {
        "learning rate": "学习率",
        "bias correction": "偏差修正",
        "bias-correct": "偏差修正",
        "momentum": "动量",
        "gradient": "梯度",
        "squared gradient": "梯度平方",
        "accumulated squared gradient": "梯度平方的累计值",
        "hyperparameter": "超参数",
        "parameter": "参数",
        "trajectory": "轨迹",
        "shallow copy": "浅拷贝",
        "in place": "原地",
        "square root": "平方根",
        "loss": "损失",
        "optimizer": "优化器",
        "self-check": "自检",
        "submission": "提交",
        "step size": "步长",
        "decay rate": "衰减率",
        "tolerance": "容差",
        "moving average": "移动平均",
        "tensor": "张量",
        "momentum factor": "动量因子",
        "reference implementation": "参考实现",
    }
}
