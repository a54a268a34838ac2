"""Ten years of heroin use: deaths, overdoses, and what detoxification changes.

The shipped default scenario (people decide their own use; half are
detoxified after 10 years) with a small cohort. The mortality table sets
the model beside the cohort studies; deaths by year show whether they
spread over the decade.

Run: python examples/gallery/05_decade_of_use.py [OUT_DIR]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import neuroadapt as na  # noqa: E402


def main(out_dir: Path, subjects: int = 100) -> dict[str, float]:
    run = na.simulate("default", subjects=subjects, seed=1)
    mortality = run.tables["mortality"]
    print(mortality[["group", "person_years", "deaths", "rate_per_1000py", "smr"]].to_string())
    by_year = run.tables["deaths_by_year"].groupby("year")["deaths"].sum()
    print(by_year.to_string())
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(by_year.index, by_year.values)
    ax.set(xlabel="year of follow-up", ylabel="deaths", title=f"{subjects} people, default")
    fig.tight_layout()
    fig.savefig(Path(out_dir) / "deaths_by_year.png", dpi=96)
    plt.close(fig)
    users = run.users
    return {
        "people": float(users.sizes["subject"]),
        "deaths": float(by_year.sum()),
        "overdoses": float(len(run.episodes)),
    }


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("."))
