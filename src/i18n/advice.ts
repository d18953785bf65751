// What to do about each class the app knows, in every language. Written for this app from the extension
// material listed in ADVICE_SOURCES (paraphrased and summarised, not copied). Sources are named in the UI.

export type AdviceLanguage = 'en' | 'es' | 'sw';
export type KnownClass = 'angular_leaf_spot' | 'bean_rust' | 'healthy';

export interface ClassAdvice {
  /** What it is and what it looks like, two or three sentences. */
  summary: string;
  /** Practical steps, most useful first. */
  actions: string[];
}

export interface AdviceSource {
  title: string;
  publisher: string;
  url: string;
}

export const ADVICE_SOURCES: Record<KnownClass, AdviceSource[]> = {
  angular_leaf_spot: [
    {
      title: 'Angular bean leaf spot (fact sheet 216)',
      publisher: 'Pacific Pests, Pathogens, Weeds & Pesticides (Lucidcentral)',
      url: 'https://apps.lucidcentral.org/ppp/text/web_full/entities/bean_angular_leaf_spot_216.htm',
    },
    {
      title: 'Angular leaf spot on dry bean production (L. Z. Ndlala, ARC-Grain Crops)',
      publisher: 'SA Grain, November 2024',
      url: 'https://sagrainmag.co.za/?p=41474',
    },
  ],
  bean_rust: [
    {
      title: 'Rust of Dry Beans, fact sheet 2.936 (H. F. Schwartz, J. R. Steadman, R. M. Harveson)',
      publisher: 'Colorado State University Extension',
      url: 'https://extension.colostate.edu/topic-areas/agriculture/rust-of-dry-beans-2-936',
    },
    {
      title: 'Bean rust',
      publisher: 'Infonet-Biovision',
      url: 'https://infonet-biovision.org/PlantHealth/MinorPests/bean-rust',
    },
  ],
  healthy: [
    {
      title: 'Rust of Dry Beans, fact sheet 2.936',
      publisher: 'Colorado State University Extension',
      url: 'https://extension.colostate.edu/topic-areas/agriculture/rust-of-dry-beans-2-936',
    },
    {
      title: 'Angular bean leaf spot (fact sheet 216)',
      publisher: 'Pacific Pests, Pathogens, Weeds & Pesticides (Lucidcentral)',
      url: 'https://apps.lucidcentral.org/ppp/text/web_full/entities/bean_angular_leaf_spot_216.htm',
    },
  ],
};

export const ADVICE: Record<AdviceLanguage, Record<KnownClass, ClassAdvice>> = {
  en: {
    angular_leaf_spot: {
      summary: 'A fungal disease (Pseudocercospora griseola). It makes small grey to brown spots with straight edges, boxed in by the leaf veins, often with a yellow rim and grey mould underneath. Pods get dark sunken spots. It spreads by wind, rain splash and infected seed, and is worst in warm, wet weather broken by dry spells.',
      actions: [
        'Pick off and destroy badly spotted leaves. After harvest, bury or burn the crop remains.',
        'Plant clean seed from a healthy crop or a trusted seller. Never keep seed from spotted pods.',
        'Rotate: grow no beans on the same plot for at least two seasons.',
        'Grow tolerant varieties recommended for your area.',
        'If spots spread early in the season, ask an extension officer whether a fungicide spray is worth it.',
      ],
    },
    bean_rust: {
      summary: 'A fungal disease (Uromyces appendiculatus). Small pale spots grow into raised, reddish-brown pustules, often ringed with yellow; the rusty powder rubs off on a finger. Badly hit leaves dry up and fall. Spores travel on the wind; cool, damp weather with long dew favours it.',
      actions: [
        'Walk the field often and look under the leaves; act as soon as the first pustules appear.',
        'After harvest, remove or plough in the bean remains and pull out self-sown bean plants.',
        'Rotate with crops that are not legumes (such as maize) for two to three years; growing beans with maize also helps.',
        'Choose rust-resistant varieties.',
        'If rust starts before or at flowering, a fungicide can pay off: ask an extension officer which product to use and follow its label.',
      ],
    },
    healthy: {
      summary: 'No sign of angular leaf spot or bean rust was found on this leaf. The app does not check for other problems such as insects, viruses or lack of nutrients.',
      actions: [
        'Keep checking the crop every week, especially in wet weather and around flowering.',
        'Check several leaves from different parts of the field, not just one.',
        'Keep the good habits that prevent disease: clean seed, crop rotation, and clearing crop remains after harvest.',
      ],
    },
  },
  es: {
    angular_leaf_spot: {
      summary: 'Enfermedad causada por un hongo (Pseudocercospora griseola). Produce manchas pequeñas, de gris a marrón, con bordes rectos limitados por las nervaduras, a menudo con un borde amarillo y moho gris por debajo. Las vainas muestran manchas oscuras y hundidas. Se propaga con el viento, las salpicaduras de lluvia y la semilla infectada; es peor con tiempo cálido y húmedo alternado con días secos.',
      actions: [
        'Arranque y destruya las hojas muy manchadas. Después de la cosecha, entierre o queme los restos del cultivo.',
        'Siembre semilla limpia de un cultivo sano o de un vendedor de confianza. Nunca guarde semilla de vainas manchadas.',
        'Rote cultivos: no siembre frijol en la misma parcela durante al menos dos temporadas.',
        'Use variedades tolerantes recomendadas para su zona.',
        'Si las manchas avanzan al inicio de la temporada, consulte a un extensionista si conviene aplicar un fungicida.',
      ],
    },
    bean_rust: {
      summary: 'Enfermedad causada por un hongo (Uromyces appendiculatus). Pequeñas manchas pálidas se convierten en pústulas elevadas de color marrón rojizo, a menudo rodeadas de amarillo; el polvo color óxido mancha el dedo al frotarlo. Las hojas muy afectadas se secan y caen. Las esporas viajan con el viento; el tiempo fresco y húmedo con rocío prolongado la favorece.',
      actions: [
        'Recorra el campo con frecuencia y mire el envés de las hojas; actúe en cuanto aparezcan las primeras pústulas.',
        'Después de la cosecha, retire o incorpore al suelo los restos de frijol y arranque las plantas que nacen solas.',
        'Rote con cultivos que no sean leguminosas (como el maíz) durante dos o tres años; sembrar frijol asociado con maíz también ayuda.',
        'Elija variedades resistentes a la roya.',
        'Si la roya aparece antes o durante la floración, un fungicida puede compensar: pregunte a un extensionista qué producto usar y siga la etiqueta.',
      ],
    },
    healthy: {
      summary: 'No se encontraron señales de mancha angular ni de roya en esta hoja. La aplicación no revisa otros problemas, como insectos, virus o falta de nutrientes.',
      actions: [
        'Siga revisando el cultivo cada semana, sobre todo con tiempo húmedo y cerca de la floración.',
        'Revise varias hojas de distintas partes del campo, no solo una.',
        'Mantenga las buenas prácticas que previenen enfermedades: semilla limpia, rotación de cultivos y retirar los restos después de la cosecha.',
      ],
    },
  },
  sw: {
    angular_leaf_spot: {
      summary: 'Ugonjwa unaosababishwa na kuvu (Pseudocercospora griseola). Husababisha madoa madogo ya kijivu hadi kahawia yenye pembe zilizonyooka, yaliyozuiliwa na mishipa ya jani, mara nyingi yakiwa na ukingo wa njano na ukungu wa kijivu upande wa chini. Maganda hupata madoa meusi yaliyobonyea. Huenezwa na upepo, matone ya mvua na mbegu zenye ugonjwa; huwa mbaya zaidi wakati wa joto na unyevu unaopishana na siku kavu.',
      actions: [
        'Chuma na uharibu majani yenye madoa mengi. Baada ya mavuno, fukia au choma mabaki ya zao.',
        'Panda mbegu safi kutoka kwa zao lenye afya au kwa muuzaji unayemwamini. Usihifadhi mbegu kutoka kwa maganda yenye madoa.',
        'Badilisha mazao: usipande maharagwe katika shamba lilelile kwa angalau misimu miwili.',
        'Panda aina zinazostahimili ugonjwa zinazopendekezwa katika eneo lako.',
        'Madoa yakienea mapema msimuni, muulize afisa ugani kama inafaa kunyunyizia dawa ya kuvu.',
      ],
    },
    bean_rust: {
      summary: 'Ugonjwa unaosababishwa na kuvu (Uromyces appendiculatus). Madoa madogo meupe hukua kuwa vipele vilivyoinuka vya rangi ya kahawia-nyekundu, mara nyingi vikiwa na duara la njano; unga wa rangi ya kutu hubaki kwenye kidole ukisugua. Majani yaliyoathirika sana hukauka na kuanguka. Mbegu za kuvu husafiri na upepo; hali ya baridi na unyevu yenye umande wa muda mrefu huupendelea.',
      actions: [
        'Kagua shamba mara kwa mara na uangalie upande wa chini wa majani; chukua hatua mara vipele vya kwanza vinapoonekana.',
        'Baada ya mavuno, ondoa au lima ndani mabaki ya maharagwe na ung’oe mimea ya maharagwe inayoota yenyewe.',
        'Badilisha na mazao yasiyo ya jamii ya mikunde (kama mahindi) kwa miaka miwili hadi mitatu; kupanda maharagwe pamoja na mahindi pia husaidia.',
        'Chagua aina zinazostahimili kutu.',
        'Kutu ikianza kabla au wakati wa kutoa maua, dawa ya kuvu inaweza kulipa: muulize afisa ugani dawa ipi utumie na ufuate maelekezo yake.',
      ],
    },
    healthy: {
      summary: 'Hakuna dalili ya madoa pembe wala kutu ya maharagwe iliyoonekana kwenye jani hili. Programu hii haikagui matatizo mengine kama wadudu, virusi au upungufu wa virutubisho.',
      actions: [
        'Endelea kukagua zao kila wiki, hasa wakati wa mvua na karibu na wakati wa kutoa maua.',
        'Kagua majani kadhaa kutoka sehemu tofauti za shamba, si jani moja tu.',
        'Dumisha tabia nzuri zinazozuia magonjwa: mbegu safi, kubadilisha mazao, na kuondoa mabaki baada ya mavuno.',
      ],
    },
  },
};

export function isKnownClass(id: string): id is KnownClass {
  return id === 'angular_leaf_spot' || id === 'bean_rust' || id === 'healthy';
}
