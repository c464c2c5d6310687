"""The Tencent Code Analysis face (seed 003): TCA's main and analysis servers' APIs."""
